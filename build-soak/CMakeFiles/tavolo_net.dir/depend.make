# Empty dependencies file for tavolo_net.
# This may be replaced when dependencies are built.
