# Empty compiler generated dependencies file for fuzzcorpus_session.
# This may be replaced when dependencies are built.
