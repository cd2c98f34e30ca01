# Empty compiler generated dependencies file for test_admit.
# This may be replaced when dependencies are built.
