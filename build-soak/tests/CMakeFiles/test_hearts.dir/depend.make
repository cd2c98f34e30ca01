# Empty dependencies file for test_hearts.
# This may be replaced when dependencies are built.
