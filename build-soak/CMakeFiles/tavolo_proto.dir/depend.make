# Empty dependencies file for tavolo_proto.
# This may be replaced when dependencies are built.
