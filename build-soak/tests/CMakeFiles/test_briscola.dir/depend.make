# Empty dependencies file for test_briscola.
# This may be replaced when dependencies are built.
