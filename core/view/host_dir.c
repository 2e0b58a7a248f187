/*
 * host_dir.c - /host/ of a QEMU process core: the process the guest lived
 * in, as plain as the core has it.
 *
 *   /host/core      the core file as it is (gdb reads it with the QEMU
 *                   binary, for QEMU's own state)
 *   /host/maps      its mappings, as /proc/PID/maps names them, with where
 *                   each one's bytes are in the core
 *   /host/notes/NN-OWNER-TYPE   its notes: a NT_PRSTATUS per QEMU thread,
 *                   NT_PRPSINFO, NT_AUXV, NT_FILE ...
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>

#include "view/view.h"

#include "view/tree_nodes.h"

static void render_maps(const struct view *v, size_t arg, struct strbuf *sb)
{
	const struct process_core *pc = v->in.fmt->host;
	(void)arg;
	sb_printf(sb, "# start-end perms file_offset core_offset core_bytes name\n");
	for (size_t i = 0; i < pc->nmaps; i++) {
		const struct host_map *m = &pc->maps[i];
		sb_printf(sb, "%012" PRIx64 "-%012" PRIx64 " %c%c%c %08" PRIx64 " %" PRIu64 " %" PRIu64 " %s\n",
			  m->start, m->end, m->flags & 4 ? 'r' : '-', m->flags & 2 ? 'w' : '-',
			  m->flags & 1 ? 'x' : '-', m->file_offset, m->offset, m->filesz,
			  m->file ? m->file : "");
	}
}

bool host_dir_add(struct tree *t, uint32_t dir)
{
	const struct process_core *pc = t->view.in.fmt->host;
	char name[64];
	verbatim_space_init(&t->host_core, &t->view.in.files[0], t->view.in.diag);
	uint32_t notes_dir = atomic_load(&t->count) + 2;
	bool ok = tree_add_space(t, dir, "core", &t->host_core.space) &&
		  tree_add_text(t, dir, "maps", render_maps, 0) &&
		  tree_add_node(t, dir, "notes", NODE_DIR);
	for (size_t i = 0; ok && i < pc->notes.count; i++) {
		note_file_name(&pc->notes.list[i], i, pc->notes.count, name, sizeof(name));
		ok = tree_add_blob(t, notes_dir, name, pc->notes.list[i].desc, pc->notes.list[i].descsz);
	}
	return ok;
}
