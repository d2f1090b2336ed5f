/* Functions that make buffer overflows and silent truncation easy: using one is a
 * compile error everywhere in Lethe. Use snprintf, memcpy with a checked length, or
 * the helpers of <lethe/util.h>. Included into every translation unit by the build. */
#ifndef LETHE_BANNED_H
#define LETHE_BANNED_H

/* System headers must see the real declarations first. */
#include <stdio.h>
#include <string.h>
#include <stdlib.h>
#include <time.h>

#define LETHE_BANNED(func) sorry_##func##_is_banned_in_lethe

#undef strcpy
#define strcpy(x, y) LETHE_BANNED(strcpy)
#undef strcat
#define strcat(x, y) LETHE_BANNED(strcat)
#undef strncpy
#define strncpy(x, y, n) LETHE_BANNED(strncpy)
#undef strncat
#define strncat(x, y, n) LETHE_BANNED(strncat)
#undef sprintf
#define sprintf(...) LETHE_BANNED(sprintf)
#undef vsprintf
#define vsprintf(...) LETHE_BANNED(vsprintf)
#undef strtok
#define strtok(x, y) LETHE_BANNED(strtok)
#undef gets
#define gets(x) LETHE_BANNED(gets)
#undef gmtime
#define gmtime(t) LETHE_BANNED(gmtime)
#undef localtime
#define localtime(t) LETHE_BANNED(localtime)
#undef ctime
#define ctime(t) LETHE_BANNED(ctime)
#undef asctime
#define asctime(t) LETHE_BANNED(asctime)
#undef atoi
#define atoi(x) LETHE_BANNED(atoi)

#endif
