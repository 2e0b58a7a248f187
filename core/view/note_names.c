/*
 * note_names.c - the file names of notes in /notes/ and /host/notes/:
 * index, owner and type, the type by name where readelf names it.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <stdio.h>
#include <string.h>

#include "view/view.h"

#include "view/tree_nodes.h"

/* The name of a core note's type, as readelf prints it without NT_. */
static const char *core_note_type(uint32_t type)
{
	switch (type) {
	case 1: return "PRSTATUS";
	case 2: return "FPREGSET";
	case 3: return "PRPSINFO";
	case 6: return "AUXV";
	case 0x202: return "X86_XSTATE";
	case 0x46494c45: return "FILE";
	case 0x53494749: return "SIGINFO";
	default: return NULL;
	}
}

/* "03-CORE-PRSTATUS": index, owner and type, safe as a file name. */
void note_file_name(const struct note *n, size_t i, size_t count, char *out, size_t len)
{
	char owner[24];
	size_t j = 0;
	for (const char *s = n->name; *s && j + 1 < sizeof(owner); s++)
		owner[j++] = (*s == '/' || *s < 0x21 || *s > 0x7e) ? '_' : *s;
	owner[j] = '\0';
	int width = count > 1000 ? 4 : count > 100 ? 3 : 2;
	const char *type = !strcmp(n->name, "CORE") || !strcmp(n->name, "LINUX") ? core_note_type(n->type) : NULL;
	if (type)
		snprintf(out, len, "%0*zu-%s-%s", width, i, owner[0] ? owner : "_", type);
	else
		snprintf(out, len, "%0*zu-%s-%u", width, i, owner[0] ? owner : "_", n->type);
}
