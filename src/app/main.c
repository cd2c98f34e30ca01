/*
 * main: options, the loop, and the exit code. Wiring only.
 */
#include <stdio.h>
#include <stdlib.h>
#include <uv.h>

#include "app/config.h"
#include "app/sdnotify.h"
#include "app/server.h"
#include "app/upgrade.h"
#include <string.h>

#include "base/log.h"
#include "base/rnd.h"
#include "store/store.h"

#ifndef TAVOLO_VERSION
#define TAVOLO_VERSION "0.13.0"
#endif

int main(int argc, char **argv)
{
    struct config cfg;
    struct server srv;
    char err[512];
    int rc = 0;

    tavolo_version_string = TAVOLO_VERSION;
    upgrade_set_argv(argc, argv);
    config_defaults(&cfg);
    if (config_from_args(&cfg, argc, argv, err, sizeof err) != 0) {
        fprintf(stderr, "tavolo: %s\n", err);
        config_free(&cfg);
        return 2;
    }
    if (cfg.show_help) {
        config_usage(stdout);
        config_free(&cfg);
        return 0;
    }
    if (log_set_level_name(cfg.log_level) != 0) {
        fprintf(stderr, "tavolo: --log-level: expected debug, info, warn or error\n");
        config_free(&cfg);
        return 2;
    }
    log_set_format(strcmp(cfg.log_format, "json") == 0 ? LOG_FORMAT_JSON
                                                       : LOG_FORMAT_TEXT);
    if (rnd_init() != 0) {
        fprintf(stderr, "tavolo: cannot initialise the random source\n");
        return 1;
    }

    if (cfg.check_data != NULL) {
        /* With --redis, the store checked is Redis's (DIR is not read). */
        rc = cfg.redis ? store_check_redis(cfg.redis, stdout)
                       : store_check(cfg.check_data, stdout);
        config_free(&cfg);
        return rc;
    }
    if (cfg.backup_to != NULL && cfg.redis != NULL) {
        /* Redis keeps its own copy: an AOF rewrite, in Redis's directory
         * (FILE is not written; docs/CLUSTER.md). */
        rc = store_backup_redis(cfg.redis, err, sizeof err);
        if (rc != 0)
            fprintf(stderr, "tavolo: %s\n", err);
        else
            printf("Redis at %s rewrote its AOF; copy its appendonlydir with "
                   "Redis tooling (docs/CLUSTER.md)\n", cfg.redis);
        config_free(&cfg);
        return rc == 0 ? 0 : 1;
    }
    if (cfg.backup_to != NULL) {
        rc = store_backup(cfg.data_dir, cfg.backup_to, err, sizeof err);
        if (rc != 0)
            fprintf(stderr, "tavolo: %s\n", err);
        else
            printf("backup of %s/tavolo.db written to %s\n", cfg.data_dir,
                   cfg.backup_to);
        config_free(&cfg);
        return rc == 0 ? 0 : 1;
    }

    uv_loop_t *loop = uv_default_loop();
    if (server_start(&srv, loop, &cfg) != 0) {
        /* Nothing was served: release what was built, and say no more. */
        server_free(&srv);
        config_free(&cfg);
        return 1;
    }
    if (!upgrade_is_child())
        sdnotify_ready(); /* the listeners accept: systemd's Type=notify */
    uv_run(loop, UV_RUN_DEFAULT);
    if (srv.exit_code != 0)
        rc = srv.exit_code;
    server_free(&srv);
    if (uv_loop_close(loop) != 0)
        log_warn("event loop closed with handles still open");
    config_free(&cfg);
    log_info("stopped");
    return rc;
}
