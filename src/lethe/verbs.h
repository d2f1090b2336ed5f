/* Prototypes of the verbs' entry points, from verb-list.h. */
#ifndef LETHE_VERBS_H
#define LETHE_VERBS_H

#define VERB(name, summary) int cmd_##name(int argc, char **argv);
#include "verb-list.h"
#undef VERB

#endif
