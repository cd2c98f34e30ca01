# Empty dependencies file for test_bucket.
# This may be replaced when dependencies are built.
