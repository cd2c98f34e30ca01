# Empty compiler generated dependencies file for test_strmap.
# This may be replaced when dependencies are built.
