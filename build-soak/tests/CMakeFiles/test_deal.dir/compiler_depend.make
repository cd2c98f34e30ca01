# Empty compiler generated dependencies file for test_deal.
# This may be replaced when dependencies are built.
