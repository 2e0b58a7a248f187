/*
 * byteorder.c - writers of integers in the dump's byte order (the readers
 * are inline in base.h).
 * SPDX-License-Identifier: GPL-2.0-or-later
 */
#include "base/base.h"

void put16(struct endian e, void *p, uint16_t v)
{
	uint8_t *b = p;
	if (e.big) { b[0] = v >> 8; b[1] = (uint8_t)v; }
	else { b[0] = (uint8_t)v; b[1] = v >> 8; }
}

void put32(struct endian e, void *p, uint32_t v)
{
	uint8_t *b = p;
	for (int i = 0; i < 4; i++)
		b[e.big ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

void put64(struct endian e, void *p, uint64_t v)
{
	uint8_t *b = p;
	for (int i = 0; i < 8; i++)
		b[e.big ? 7 - i : i] = (uint8_t)(v >> (8 * i));
}

void swap_each(void *p, size_t len, size_t width)
{
	uint8_t *b = p;
	for (size_t at = 0; width > 1 && at + width <= len; at += width)
		for (size_t i = 0, j = width - 1; i < j; i++, j--) {
			uint8_t t = b[at + i];
			b[at + i] = b[at + j];
			b[at + j] = t;
		}
}
