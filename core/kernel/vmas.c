/*
 * vmas.c - a process's memory map, as /proc/PID/maps prints it, from its
 * mm_struct: the VMAs of the maple tree (mm->mm_mt, 6.1 on) or, before
 * 6.1, of the list at mm->mmap (vm_next), each with its flags, its file's
 * path, device and inode, or the name /proc gives an anonymous region
 * ([heap], [stack], a special mapping's as [vdso]).
 *
 * The maple tree (lib/maple_tree.c): ma_root is an encoded node pointer, a
 * 256-byte aligned struct maple_node with its type in bits 3-6 and bit 1
 * set; internal nodes (maple_range_64, maple_arange_64) hold pivots and
 * child pointers, leaves (maple_leaf_64, laid out as maple_range_64) the
 * VMAs.  Slot i covers (pivot[i-1], pivot[i]]; where the data ends is
 * ma_data_end()'s rule.  The layouts come from BTF; the encoding is the
 * tree's own, fixed since 6.1.
 *
 * A dump can be taken mid-update: each VMA must lie in the range its slot
 * covers and after the previous one; the walk stops at MAPLE_HEIGHT_MAX
 * levels and MAX_VMAS entries; a node that cannot be read is an error.
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kernel/kernel.h"

#define MAPLE_NODE_SIZE 256
#define MAPLE_HEIGHT_MAX 31
#define MAX_VMAS (1u << 20)             /* max_map_count is 65530 by default */
#define MAX_PATH_DEPTH 256
#define PATH_MAX_LEN 4096
#define VM_READ 0x1u
#define VM_WRITE 0x2u
#define VM_EXEC 0x4u
#define VM_MAYSHARE 0x80u

enum maple_type { MAPLE_DENSE, MAPLE_LEAF_64, MAPLE_RANGE_64, MAPLE_ARANGE_64 };

struct vma_layout {
	struct kfield mm_mt_root, start_brk, brk, start_stack;
	struct kfield r64_pivot, r64_slot, r64_meta_end, a64_pivot, a64_slot, a64_meta_end;
	struct kfield vm_start, vm_end, vm_flags, vm_pgoff, vm_file, vm_ops, vm_private, vm_anon_vma;
	struct kfield f_path_mnt, f_path_dentry, f_inode, i_ino, i_sb, s_dev;
	struct kfield d_parent, d_name_len, d_name_name;
	struct kfield mnt_parent, mnt_mountpoint, mnt_mnt, mnt_root, special_name;
	struct kfield d_op, d_dname, d_hash_pprev, i_nlink;     /* size 0: unknown */
	bool maple;                     /* else mm->mmap and vm_next */
	struct kfield mm_mmap, vm_next;
};

struct walk {
	struct kmem km;
	const struct vma_layout *l;
	uint64_t start_brk, brk, start_stack;   /* of the mm */
	uint64_t page_size;                     /* vm_pgoff's unit */
	const uint64_t *special_vmops;          /* [2] */
	const uint64_t *dname_fns;              /* [3], ktask_list's */
	uint64_t *vmas;                 /* vm_area_struct addresses, in order */
	size_t count, cap;
	uint64_t last_end;
	unsigned nodes;
	char *why;
	size_t whylen;
};

static bool vma_layout_get(const struct ktypes *kt, struct vma_layout **out, char *why, size_t whylen)
{
	struct vma_layout *l = calloc(1, sizeof(*l));
	const struct { const char *type, *member; struct kfield *f; } need[] = {
		{ "mm_struct", "start_brk", &l->start_brk }, { "mm_struct", "brk", &l->brk },
		{ "mm_struct", "start_stack", &l->start_stack },
		{ "vm_area_struct", "vm_start", &l->vm_start }, { "vm_area_struct", "vm_end", &l->vm_end },
		{ "vm_area_struct", "vm_flags", &l->vm_flags }, { "vm_area_struct", "vm_pgoff", &l->vm_pgoff },
		{ "vm_area_struct", "vm_file", &l->vm_file }, { "vm_area_struct", "vm_ops", &l->vm_ops },
		{ "vm_area_struct", "vm_private_data", &l->vm_private },
		{ "vm_area_struct", "anon_vma", &l->vm_anon_vma },
		{ "file", "f_path.mnt", &l->f_path_mnt }, { "file", "f_path.dentry", &l->f_path_dentry },
		{ "file", "f_inode", &l->f_inode }, { "inode", "i_ino", &l->i_ino },
		{ "inode", "i_sb", &l->i_sb }, { "super_block", "s_dev", &l->s_dev },
		{ "dentry", "d_parent", &l->d_parent }, { "dentry", "d_name.len", &l->d_name_len },
		{ "dentry", "d_name.name", &l->d_name_name },
		{ "mount", "mnt_parent", &l->mnt_parent }, { "mount", "mnt_mountpoint", &l->mnt_mountpoint },
		{ "mount", "mnt", &l->mnt_mnt }, { "vfsmount", "mnt_root", &l->mnt_root },
		{ "vm_special_mapping", "name", &l->special_name },
	};
	/* what names pseudo files and tells anonymous shared memory: without
	 * them (size 0), such files are named by their dentries */
	const struct { const char *type, *member; struct kfield *f; } optional[] = {
		{ "dentry", "d_op", &l->d_op }, { "dentry_operations", "d_dname", &l->d_dname },
		{ "inode", "i_nlink", &l->i_nlink }, { "dentry", "d_hash.pprev", &l->d_hash_pprev },
	};
	/* 6.1 on: the maple tree; before: the list at mm->mmap */
	const struct { const char *type, *member; struct kfield *f; } tree[] = {
		{ "mm_struct", "mm_mt.ma_root", &l->mm_mt_root },
		{ "maple_range_64", "pivot", &l->r64_pivot }, { "maple_range_64", "slot", &l->r64_slot },
		{ "maple_range_64", "meta.end", &l->r64_meta_end },
		{ "maple_arange_64", "pivot", &l->a64_pivot }, { "maple_arange_64", "slot", &l->a64_slot },
		{ "maple_arange_64", "meta.end", &l->a64_meta_end },
	};
	if (!l)
		return false;
	for (size_t i = 0; i < sizeof(need) / sizeof(need[0]); i++)
		if (!ktypes_member(kt, need[i].type, need[i].member, need[i].f)) {
			snprintf(why, whylen, "the kernel's BTF has no struct %s member %s", need[i].type,
				 need[i].member);
			free(l);
			return false;
		}
	for (size_t i = 0; i < sizeof(optional) / sizeof(optional[0]); i++)
		if (!ktypes_member(kt, optional[i].type, optional[i].member, optional[i].f))
			optional[i].f->size = 0;
	l->maple = true;
	for (size_t i = 0; i < sizeof(tree) / sizeof(tree[0]) && l->maple; i++)
		l->maple = ktypes_member(kt, tree[i].type, tree[i].member, tree[i].f);
	if (!l->maple && (!ktypes_member(kt, "mm_struct", "mmap", &l->mm_mmap) ||
			  !ktypes_member(kt, "vm_area_struct", "vm_next", &l->vm_next))) {
		snprintf(why, whylen, "the kernel's BTF has neither mm_struct's maple tree (6.1 on) "
			 "nor its mmap list (before)");
		free(l);
		return false;
	}
	*out = l;
	return true;
}

static uint64_t word_at(struct walk *w, const uint8_t *node, const struct kfield *array, unsigned i)
{
	return kmem_word(&w->km, node + array->offset + (uint64_t)i * machine_word_size(w->km.m));
}

static bool add_vma(struct walk *w, uint64_t vma, uint64_t min, uint64_t max)
{
	uint8_t b[8];
	uint64_t start, end;
	if (!kmem_read_word(&w->km, vma + w->l->vm_start.offset, &start) ||
	    !kmem_read(&w->km, vma + w->l->vm_end.offset, b, machine_word_size(w->km.m))) {
		snprintf(w->why, w->whylen, "vm_area_struct %#" PRIx64 " is not in the dump", vma);
		return false;
	}
	end = kmem_word(&w->km, b);
	if (start >= end || start < min || end - 1 > max || start < w->last_end) {
		snprintf(w->why, w->whylen, "vm_area_struct %#" PRIx64 " [%#" PRIx64 ", %#" PRIx64 ") is "
			 "out of its place among the VMAs (a dump taken mid-update?)", vma, start, end);
		return false;
	}
	if (w->count == MAX_VMAS) {
		snprintf(w->why, w->whylen, "more than %u VMAs", MAX_VMAS);
		return false;
	}
	if (w->count == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 64;
		uint64_t *v = realloc(w->vmas, cap * sizeof(*v));
		if (!v) {
			snprintf(w->why, w->whylen, "out of memory");
			return false;
		}
		w->vmas = v;
		w->cap = cap;
	}
	w->vmas[w->count++] = vma;
	w->last_end = end;
	return true;
}

/* The node @enode covering [min, max], @depth levels below the root.  An
 * encoded node is the node's address with its type in bits 3-6 and bit 2
 * (MAPLE_ENODE_NULL) free; the root's has bit 1 set besides (an xarray
 * internal entry, MAPLE_ROOT_NODE), a child's in a slot bits 0-1 clear. */
static bool walk_node(struct walk *w, uint64_t enode, uint64_t min, uint64_t max, unsigned depth)
{
	uint8_t node[MAPLE_NODE_SIZE];
	const unsigned type = (unsigned)(enode >> 3) & 15;
	const uint64_t addr = enode & ~(uint64_t)(MAPLE_NODE_SIZE - 1);
	if (depth > MAPLE_HEIGHT_MAX || type == MAPLE_DENSE || type > MAPLE_ARANGE_64 ||
	    (enode & 3) != (depth ? 0 : 2) || ++w->nodes > MAX_VMAS) {
		snprintf(w->why, w->whylen, "maple node %#" PRIx64 " is not one (type %u, depth %u)",
			 enode, type, depth);
		return false;
	}
	if (!kmem_read(&w->km, addr, node, sizeof(node))) {
		snprintf(w->why, w->whylen, "maple node %#" PRIx64 " is not in the dump", addr);
		return false;
	}
	const struct vma_layout *l = w->l;
	const bool arange = type == MAPLE_ARANGE_64;
	const struct kfield *pivot = arange ? &l->a64_pivot : &l->r64_pivot;
	const struct kfield *slot = arange ? &l->a64_slot : &l->r64_slot;
	const unsigned word = machine_word_size(w->km.m);
	const unsigned npivots = (unsigned)(pivot->size / word), nslots = (unsigned)(slot->size / word);
	if (pivot->offset + pivot->size > sizeof(node) || slot->offset + slot->size > sizeof(node) ||
	    nslots != npivots + 1) {
		snprintf(w->why, w->whylen, "maple node layout of BTF does not fit a node");
		return false;
	}
	/* ma_data_end() */
	unsigned end;
	uint64_t lastp = word_at(w, node, pivot, npivots - 1);
	if (arange || !lastp)
		end = node[(arange ? l->a64_meta_end : l->r64_meta_end).offset];
	else
		end = lastp == max ? npivots - 1 : npivots;
	if (end >= nslots) {
		snprintf(w->why, w->whylen, "maple node %#" PRIx64 " ends at slot %u of %u", addr, end, nslots);
		return false;
	}
	uint64_t lo = min;
	for (unsigned i = 0; i <= end; i++) {
		uint64_t hi = i < npivots && i < end ? word_at(w, node, pivot, i) : max;
		uint64_t entry = word_at(w, node, slot, i);
		if (hi < lo || hi > max) {
			snprintf(w->why, w->whylen, "maple node %#" PRIx64 " pivots out of order", addr);
			return false;
		}
		if (entry) {
			bool ok = type == MAPLE_LEAF_64 ? add_vma(w, entry, lo, hi)
							: walk_node(w, entry, lo, hi, depth + 1);
			if (!ok)
				return false;
		}
		if (hi == max)
			break;
		lo = hi + 1;
	}
	return true;
}

/* Before 6.1: the VMAs on mm->mmap through vm_next, in address order.
 * add_vma() keeps them increasing, so a list that loops back fails there;
 * MAX_VMAS ends one that does not. */
static bool walk_list(struct walk *w, uint64_t mm)
{
	uint64_t vma;
	if (!kmem_read_word(&w->km, mm + w->l->mm_mmap.offset, &vma)) {
		snprintf(w->why, w->whylen, "mm_struct %#" PRIx64 " is not in the dump", mm);
		return false;
	}
	while (vma) {
		if (!add_vma(w, vma, 0, UINT64_MAX))
			return false;
		if (!kmem_read_word(&w->km, vma + w->l->vm_next.offset, &vma)) {
			snprintf(w->why, w->whylen, "vm_area_struct's vm_next is not in the dump");
			return false;
		}
	}
	return true;
}

/* The name of @dentry (at most 255 bytes), NUL-terminated into @out. */
static bool dentry_name(struct walk *w, uint64_t dentry, char *out, uint32_t *lenp)
{
	const struct vma_layout *l = w->l;
	uint64_t name;
	uint8_t lb[4];
	if (!kmem_read(&w->km, dentry + l->d_name_len.offset, lb, 4) ||
	    !kmem_read_word(&w->km, dentry + l->d_name_name.offset, &name))
		return false;
	uint32_t len = get32(w->km.m->mem_endian, lb);
	if (len == 0 || len > 255 || !kmem_read(&w->km, name, out, len))
		return false;
	out[len] = '\0';
	*lenp = len;
	return true;
}

/* A pseudo file's name as its d_dname gives it (d_path() asks that first
 * when the dentry has one and is not its mount's root); false, with *@out
 * empty, for a dentry without. */
static bool pseudo_name(struct walk *w, uint64_t vfsmnt, uint64_t dentry, uint64_t inode, char *out,
			size_t outlen)
{
	const struct vma_layout *l = w->l;
	uint64_t ops, dname, root, ino;
	char name[256];
	uint32_t len;
	out[0] = '\0';
	if (!l->d_op.size || !l->d_dname.size ||
	    !kmem_read_word(&w->km, dentry + l->d_op.offset, &ops) || !ops ||
	    !kmem_read_word(&w->km, ops + l->d_dname.offset, &dname) || !dname ||
	    !kmem_read_word(&w->km, vfsmnt + l->mnt_root.offset, &root) || root == dentry ||
	    !dentry_name(w, dentry, name, &len))
		return false;
	if (dname == w->dname_fns[0])
		snprintf(out, outlen, "/%s (deleted)", name);          /* simple_dname */
	else if (dname == w->dname_fns[1])
		snprintf(out, outlen, "anon_inode:%s", name);
	else if (dname == w->dname_fns[2] && kmem_read_word(&w->km, inode + l->i_ino.offset, &ino))
		snprintf(out, outlen, "socket:[%" PRIu64 "]", ino);
	else
		snprintf(out, outlen, "%s", name);      /* a d_dname we do not know: its dentry's name */
	return true;
}

/* Whether d_path() adds " (deleted)": the dentry is unhashed, not a root. */
static bool unlinked(struct walk *w, uint64_t dentry)
{
	const struct vma_layout *l = w->l;
	uint64_t pprev, parent;
	return l->d_hash_pprev.size && kmem_read_word(&w->km, dentry + l->d_hash_pprev.offset, &pprev) &&
	       !pprev && kmem_read_word(&w->km, dentry + l->d_parent.offset, &parent) && parent != dentry;
}

/* The path of the dentry of @mnt, as d_path() gives it from the root. */
static bool file_path(struct walk *w, uint64_t vfsmnt, uint64_t dentry, char *out, size_t outlen)
{
	const struct vma_layout *l = w->l;
	char buf[PATH_MAX_LEN];
	size_t at = sizeof(buf) - 1;
	buf[at] = '\0';
	const uint64_t file_dentry = dentry;
	uint64_t mount = vfsmnt - l->mnt_mnt.offset;
	for (unsigned depth = 0; depth < MAX_PATH_DEPTH; depth++) {
		uint64_t root, parent, next_mount;
		if (!kmem_read_word(&w->km, vfsmnt + l->mnt_root.offset, &root) ||
		    !kmem_read_word(&w->km, dentry + l->d_parent.offset, &parent))
			return false;
		if (dentry == root || dentry == parent) {
			/* the top of this mount: on to where it is mounted */
			if (!kmem_read_word(&w->km, mount + l->mnt_parent.offset, &next_mount))
				return false;
			if (next_mount == mount || !next_mount)
				break;
			if (!kmem_read_word(&w->km, mount + l->mnt_mountpoint.offset, &dentry))
				return false;
			mount = next_mount;
			vfsmnt = mount + l->mnt_mnt.offset;
			continue;
		}
		char name[256];
		uint32_t len;
		if (!dentry_name(w, dentry, name, &len) || len + 1 > at)
			return false;
		at -= len;
		memcpy(buf + at, name, len);
		buf[--at] = '/';
		dentry = parent;
	}
	snprintf(out, outlen, "%s%s", at == sizeof(buf) - 1 ? "/" : buf + at,
		 unlinked(w, file_dentry) ? " (deleted)" : "");
	return true;
}

/* What one VMA says, into @v (its name malloc'd, or NULL). */
static bool vma_get(struct walk *w, uint64_t vma, struct kvma *v)
{
	const struct vma_layout *l = w->l;
	uint64_t file, ops, priv, anon_vma = 0;
	char name[PATH_MAX_LEN] = "";
	memset(v, 0, sizeof(*v));
	if (!kmem_read_word(&w->km, vma + l->vm_start.offset, &v->start) ||
	    !kmem_read_word(&w->km, vma + l->vm_end.offset, &v->end) ||
	    !kmem_read_word(&w->km, vma + l->vm_flags.offset, &v->flags) ||
	    !kmem_read_word(&w->km, vma + l->vm_file.offset, &file) ||
	    !kmem_read_word(&w->km, vma + l->vm_ops.offset, &ops) ||
	    !kmem_read_word(&w->km, vma + l->vm_private.offset, &priv) ||
	    !kmem_read_word(&w->km, vma + l->vm_anon_vma.offset, &anon_vma)) {
		snprintf(w->why, w->whylen, "vm_area_struct %#" PRIx64 " is not in the dump", vma);
		return false;
	}
	v->written = anon_vma != 0;
	if (file) {
		uint64_t mnt, dentry, inode, sbp;
		uint8_t b[4];
		if (!kmem_read_word(&w->km, vma + l->vm_pgoff.offset, &v->pgoff) ||
		    !kmem_read_word(&w->km, file + l->f_path_mnt.offset, &mnt) ||
		    !kmem_read_word(&w->km, file + l->f_path_dentry.offset, &dentry) ||
		    !kmem_read_word(&w->km, file + l->f_inode.offset, &inode) ||
		    !kmem_read_word(&w->km, inode + l->i_ino.offset, &v->ino) ||
		    !kmem_read_word(&w->km, inode + l->i_sb.offset, &sbp) ||
		    !kmem_read(&w->km, sbp + l->s_dev.offset, b, 4) ||
		    (!pseudo_name(w, mnt, dentry, inode, name, sizeof(name)) &&
		     !file_path(w, mnt, dentry, name, sizeof(name)))) {
			snprintf(w->why, w->whylen, "the file of vm_area_struct %#" PRIx64 " is not in the dump", vma);
			return false;
		}
		v->dev = get32(w->km.m->mem_endian, b);
		/* a file without links: shared anonymous memory, memfd, unlinked */
		v->unlinked = l->i_nlink.size && kmem_read(&w->km, inode + l->i_nlink.offset, b, 4) &&
			      !get32(w->km.m->mem_endian, b);
		v->pgoff *= w->page_size;
		v->file = true;
	} else if (ops && (ops == w->special_vmops[0] || ops == w->special_vmops[1])) {
		uint64_t p;
		v->special = true;
		if (priv && kmem_read_word(&w->km, priv + l->special_name.offset, &p) && p &&
		    kmem_read(&w->km, p, name, 32))
			name[31] = '\0';
	} else if (v->start <= w->brk && v->end >= w->start_brk) {
		snprintf(name, sizeof(name), "[heap]");
	} else if (v->start <= w->start_stack && v->end >= w->start_stack) {
		snprintf(name, sizeof(name), "[stack]");
	}
	if (name[0] && !(v->name = strdup(name))) {
		snprintf(w->why, w->whylen, "out of memory");
		return false;
	}
	return true;
}

void task_vmas_free(struct kvma *v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i].name);
	free(v);
}

void vmas_prepare(struct ktask_list *tl)
{
	if (!vma_layout_get(&tl->types, &tl->vmas, tl->vmas_why, sizeof(tl->vmas_why)))
		tl->vmas = NULL;
}

enum dumpfs_status task_vmas(const struct machine *m, const struct ktask_list *tl, const struct ktask *t,
			     struct kvma **out, size_t *count, char *why, size_t whylen)
{
	uint64_t root;
	*out = NULL;
	*count = 0;
	if (!tl->vmas) {
		snprintf(why, whylen, "%s", tl->vmas_why);
		return DUMPFS_ERR_UNSUPPORTED;
	}
	struct walk w = { .l = tl->vmas, .special_vmops = tl->special_vmops, .dname_fns = tl->dname_fns, .why = why, .whylen = whylen,
			  .page_size = 4096 };
	uint64_t ps;
	if (vmcoreinfo_u64(m->notes, "PAGESIZE", 10, &ps) && ps >= 4096 && ps <= (1u << 16) && !(ps & (ps - 1)))
		w.page_size = ps;
	const struct vma_layout *l = w.l;
	enum dumpfs_status st = kmem_init(&w.km, m, why, whylen);
	if (st != DUMPFS_OK)
		return st;
	if ((l->maple && !kmem_read_word(&w.km, t->mm + l->mm_mt_root.offset, &root)) ||
	    !kmem_read_word(&w.km, t->mm + l->start_brk.offset, &w.start_brk) ||
	    !kmem_read_word(&w.km, t->mm + l->brk.offset, &w.brk) ||
	    !kmem_read_word(&w.km, t->mm + l->start_stack.offset, &w.start_stack)) {
		snprintf(why, whylen, "pid %d's mm_struct is not in the dump", t->pid);
		return DUMPFS_ERR_NODATA;
	}
	bool ok = !l->maple ? walk_list(&w, t->mm)
		  : !root || ((root & 3) == 2 && root > 4096 ? walk_node(&w, root, 0, UINT64_MAX, 0)
							     : add_vma(&w, root, 0, 0));
	struct kvma *v = ok && w.count ? calloc(w.count, sizeof(*v)) : NULL;
	if (ok && w.count && !v) {
		snprintf(why, whylen, "out of memory");
		ok = false;
	}
	size_t n = 0;
	for (; ok && n < w.count; n++)
		ok = vma_get(&w, w.vmas[n], &v[n]);
	free(w.vmas);
	if (!ok) {
		task_vmas_free(v, n);
		return DUMPFS_ERR_CORRUPT;
	}
	*out = v;
	*count = w.count;
	snprintf(why, whylen, "%zu VMAs, %u maple nodes", w.count, w.nodes);
	return DUMPFS_OK;
}

enum dumpfs_status task_maps(const struct machine *m, const struct ktask_list *tl, const struct ktask *t,
			     struct strbuf *sb, char *why, size_t whylen)
{
	struct kvma *v;
	size_t n;
	enum dumpfs_status st = task_vmas(m, tl, t, &v, &n, why, whylen);
	if (st != DUMPFS_OK)
		return st;
	/* seq_pad(): a name starts at column 73 (64-bit), or after one space */
	const size_t width = 25 + machine_word_size(m) * 6;
	for (size_t i = 0; i < n; i++) {
		size_t before = sb->len;
		sb_printf(sb, "%08" PRIx64 "-%08" PRIx64 " %c%c%c%c %08" PRIx64 " %02x:%02x %" PRIu64 " ",
			  v[i].start, v[i].end, v[i].flags & VM_READ ? 'r' : '-',
			  v[i].flags & VM_WRITE ? 'w' : '-', v[i].flags & VM_EXEC ? 'x' : '-',
			  v[i].flags & VM_MAYSHARE ? 's' : 'p', v[i].pgoff, v[i].dev >> 20,
			  v[i].dev & 0xfffff, v[i].ino);
		if (v[i].name) {
			size_t used = sb->len - before;
			if (used < width)
				sb_printf(sb, "%*s", (int)(width - used), "");
			sb_printf(sb, "%s", v[i].name);
		}
		sb_printf(sb, "\n");
	}
	task_vmas_free(v, n);
	return DUMPFS_OK;
}

void vma_layout_free(struct vma_layout *l)
{
	free(l);
}
