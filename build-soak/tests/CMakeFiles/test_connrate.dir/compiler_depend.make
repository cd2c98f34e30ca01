# Empty compiler generated dependencies file for test_connrate.
# This may be replaced when dependencies are built.
