CMakeFiles/tavolo_proto.dir/src/proto/cmd.c.o: /work/main/src/proto/cmd.c \
 /usr/include/stdc-predef.h /work/main/src/proto/cmd.h \
 /usr/lib/gcc/x86_64-linux-gnu/12/include/stdbool.h \
 /usr/lib/gcc/x86_64-linux-gnu/12/include/stddef.h
