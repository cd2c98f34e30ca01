/*
 * fuzz_http: the HTTP request parser and its helpers on arbitrary bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto/http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct http_request req;
    /* a private copy, so reads past the end are caught by ASan */
    char *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    ssize_t n = http_parse(buf, size, 8192, &req);
    if (n > 0) {
        const struct http_header *key = http_header(&req, "Sec-WebSocket-Key");
        char accept[29];
        if (key != NULL)
            http_ws_accept(key->value, key->value_len, accept);
        http_has_token(http_header(&req, "Connection"), "upgrade");
        http_has_body(&req);
        http_wants_close(&req);
    }
    free(buf);
    return 0;
}
