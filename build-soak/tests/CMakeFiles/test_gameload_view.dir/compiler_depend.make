# Empty compiler generated dependencies file for test_gameload_view.
# This may be replaced when dependencies are built.
