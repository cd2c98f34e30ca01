# Empty dependencies file for fuzzcorpus_http.
# This may be replaced when dependencies are built.
