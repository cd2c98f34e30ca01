/*
 * mem: allocation that never returns NULL.
 *
 * Every buffer tavolo keeps is bounded by PROTOCOL §6, so running out of
 * memory is an emergency, not a per-client error: these wrappers log the
 * size that failed and abort the process.
 */
#ifndef TAVOLO_BASE_MEM_H
#define TAVOLO_BASE_MEM_H

#include <stddef.h>

void *mem_alloc(size_t size);
void *mem_calloc(size_t n, size_t size);
void *mem_realloc(void *p, size_t size);
char *mem_strdup(const char *s);

#endif
