# Empty dependencies file for test_line.
# This may be replaced when dependencies are built.
