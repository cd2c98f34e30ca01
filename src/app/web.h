/*
 * web: the web client's files, compiled into the binary (web/ at build
 * time, by cmake/embed.cmake). "/" serves /index.html.
 */
#ifndef TAVOLO_APP_WEB_H
#define TAVOLO_APP_WEB_H

#include <stddef.h>

struct web_asset {
    const char *path; /* "/index.html" */
    const char *type; /* Content-Type */
    const unsigned char *data;
    size_t len;
};

/* Terminated by an entry with path NULL. */
extern const struct web_asset web_assets[];

#endif
