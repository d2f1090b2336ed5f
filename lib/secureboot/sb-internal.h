/* What the files of lib/secureboot share. */
#ifndef LETHE_SB_INTERNAL_H
#define LETHE_SB_INTERNAL_H

/* lethe_run() of argv (NULL-terminated); on failure its message ("'NAME' exited with
 * status N: LAST LINE"). */
int sb_run(const char *const *argv);

/* 0 when the program name (or path, with a '/') is runnable from LETHE_RUN_PATH, else -ENOENT with
 * "cannot find 'NAME' (install PACKAGE)". */
int sb_need_program(const char *name, const char *package);

/* sbsign and sbverify: $LETHE_SBSIGN / $LETHE_SBVERIFY when set (a test names a
 * missing one), else the names. */
enum sb_tool { SB_TOOL_SIGN, SB_TOOL_VERIFY };
const char *sb_tool(enum sb_tool t);

#endif
