# Empty dependencies file for test_scopa.
# This may be replaced when dependencies are built.
