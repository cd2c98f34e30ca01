# Empty compiler generated dependencies file for test_ban.
# This may be replaced when dependencies are built.
