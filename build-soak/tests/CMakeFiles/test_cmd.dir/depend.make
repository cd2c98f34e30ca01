# Empty dependencies file for test_cmd.
# This may be replaced when dependencies are built.
