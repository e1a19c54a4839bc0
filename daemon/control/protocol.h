/*
 * The control protocol of dtlsgwd as constants, shared by the daemon's control
 * server (daemon/control) and dtlsgwctl (daemon/ctl). Header only: the CLI
 * includes it without linking anything of the daemon.
 *
 * One JSON object per line each way, over a Unix stream socket:
 *
 *   -> {"version":1,"command":"peer","args":{"name":"b"}}
 *   <- {"version":1,"ok":true,"result":{...}}
 *   <- {"version":1,"ok":false,"error":"peer b: no such peer"}
 *
 * docs/control-protocol.md describes every command, its arguments and the
 * shape of its result.
 */
#ifndef DTLSGW_CONTROL_PROTOCOL_H
#define DTLSGW_CONTROL_PROTOCOL_H

#define CONTROL_PROTOCOL_VERSION 1

#define CONTROL_DEFAULT_SOCKET "/run/dtlsgw/control.sock"
#define CONTROL_DEFAULT_GROUP "dtlsgw"

/* Longest request line in bytes, newline included. */
#define CONTROL_LINE_MAX (64 * 1024)
/* Deepest JSON nesting a request may have (add-peer needs 4). */
#define CONTROL_JSON_DEPTH 6
/* add-peer: at most this many key=value settings, keys and values this long. */
#define CONTROL_KV_MAX 64
#define CONTROL_KEY_MAX 32
#define CONTROL_VALUE_MAX 4096

/* Request and reply member names. */
#define CONTROL_F_VERSION "version"
#define CONTROL_F_COMMAND "command"
#define CONTROL_F_ARGS "args"
#define CONTROL_F_OK "ok"
#define CONTROL_F_RESULT "result"
#define CONTROL_F_ERROR "error"

/* Command names on the wire. */
#define CONTROL_CMD_NAME_STATUS "status"
#define CONTROL_CMD_NAME_PEERS "peers"
#define CONTROL_CMD_NAME_PEER "peer"
#define CONTROL_CMD_NAME_ADD_PEER "add-peer"
#define CONTROL_CMD_NAME_REMOVE_PEER "remove-peer"
#define CONTROL_CMD_NAME_DISCONNECT "disconnect"
#define CONTROL_CMD_NAME_RELOAD "reload"
#define CONTROL_CMD_NAME_STATS "stats"
#define CONTROL_CMD_NAME_LOG_LEVEL "log-level"

/* Argument names. */
#define CONTROL_ARG_NAME "name"         /* peer, add-peer, remove-peer, disconnect */
#define CONTROL_ARG_SETTINGS "settings" /* add-peer: [["key","value"], ...] */
#define CONTROL_ARG_LEVEL "level"       /* log-level */
#define CONTROL_ARG_FORMAT "format"     /* stats: "prometheus" (the default) */

#define CONTROL_STATS_FORMAT_PROMETHEUS "prometheus"

#endif
