#!/usr/bin/env python3
"""elf-pack.py IN OUT — write IN, a little-endian ELF64 executable (x86_64's
vmlinux, which Xen loads as a PV dom0 and libxenguest as a guest), to OUT with
the same memory image in fewer bytes, so that less crosses TFTP at every boot:
  - each PT_LOAD segment's trailing zero bytes leave the file: p_filesz shrinks
    to its last non-zero byte and p_memsz stays (a loader zero-fills p_memsz
    past p_filesz: the ELF gABI's program header; Xen's libelf,
    elf_load_image). Debian's kernel carries its .bss as zeros in the file,
    since the PROGBITS .init.scratch follows it in the same segment;
  - the segments follow each other at page-aligned offsets instead of 2 MiB
    ones, their p_align set to the page (p_offset and p_vaddr stay congruent
    modulo p_align, as the gABI asks);
  - every other program header (PT_NOTE: where Xen's libelf finds the Xen
    notes, elf_xen_parse) points at the same bytes in their new place;
  - the section headers are dropped (e_shoff, e_shnum, e_shstrndx 0): nothing
    loads by them, and libelf reads the notes from PT_NOTE before it looks for
    sections.
Debian's 6.1 vmlinux: 65.9 MB in, 35.4 MB out. OUT is checked before it is
written: every loadable byte (p_paddr .. p_paddr + p_memsz of each PT_LOAD) the
same as IN's, every other header's bytes the same. Exit status 1, naming what,
on an input that is not such an ELF, whose headers point outside it, that has
more than 64 program headers (a kernel has a handful), whose segments overlap
in the file, or whose other headers would add more than IN holds: OUT is never
larger than IN and a page a header, and the work is linear in IN's size. A
PT_PHDR points at the new program header table."""
import struct
import sys

PAGE = 4096
PHDRS_MAX = 64
PT_LOAD = 1
PT_PHDR = 6
EHDR = struct.Struct('<16sHHIQQQIHHHHHH')
PHDR = struct.Struct('<IIQQQQQQ')


def fail(msg):
    sys.exit('elf-pack.py: %s' % msg)


def headers(data, name):
    if len(data) < EHDR.size or data[:4] != b'\x7fELF':
        fail('%s: not an ELF file' % name)
    if data[4] != 2 or data[5] != 1:
        fail('%s: not a little-endian ELF64 file' % name)
    eh = list(EHDR.unpack_from(data, 0))
    phoff, phentsize, phnum = eh[5], eh[9], eh[10]
    if phentsize != PHDR.size or phnum == 0 or phoff + phnum * PHDR.size > len(data):
        fail('%s: program headers outside the file (offset %d, %d of %d bytes)'
             % (name, phoff, phnum, phentsize))
    if phnum > PHDRS_MAX:
        fail('%s: %d program headers (at most %d)' % (name, phnum, PHDRS_MAX))
    ph = [list(PHDR.unpack_from(data, phoff + i * PHDR.size)) for i in range(phnum)]
    for i, (ptype, _, off, _, _, filesz, memsz, _) in enumerate(ph):
        if off + filesz > len(data):
            fail('%s: program header %d points past the end (offset %d, %d bytes)'
                 % (name, i, off, filesz))
        if ptype == PT_LOAD and filesz > memsz:
            fail('%s: program header %d holds more in the file than in memory' % (name, i))
    return eh, ph


def memory(data, ph):
    """The loadable image: (paddr, memsz, the file's bytes without their trailing
    zeros) of each PT_LOAD, what is loaded past them being zeros."""
    return [(p[4], p[6], data[p[2]:p[2] + p[5]].rstrip(b'\0'))
            for p in ph if p[0] == PT_LOAD]


def pack(data, name):
    eh, ph = headers(data, name)
    loads = [p for p in ph if p[0] == PT_LOAD]
    if not loads:
        fail('%s: no PT_LOAD segment' % name)
    out = bytearray(EHDR.size + len(ph) * PHDR.size)
    moved = []  # (old offset, old end, new offset) of each segment's kept bytes
    spans = sorted((p[2], p[2] + p[5]) for p in loads if p[5])
    if any(a[1] > b[0] for a, b in zip(spans, spans[1:])):
        fail('%s: segments overlap in the file' % name)
    for p in loads:
        off, vaddr, filesz = p[2], p[3], p[5]
        keep = len(data[off:off + filesz].rstrip(b'\0'))
        start = len(out) + (vaddr - len(out)) % PAGE
        out.extend(bytes(start - len(out)))
        out.extend(data[off:off + keep])
        moved.append((off, off + filesz, start))
        p[2], p[5], p[7] = start, keep, PAGE
    placed = {}  # (offset, size) of bytes appended -> their new offset
    for p in ph:
        if p[0] == PT_LOAD:
            continue
        off, filesz = p[2], p[5]
        if p[0] == PT_PHDR:
            # the program header table: where it now is
            p[2], p[5] = EHDR.size, len(ph) * PHDR.size
            continue
        home = [m for m in moved if m[0] <= off and off + filesz <= m[1]]
        new = home[0][2] + off - home[0][0] if home else None
        if new is None or new + filesz > len(out) or \
                out[new:new + filesz] != data[off:off + filesz]:
            # not inside what a segment kept: its bytes go at the end, once
            # for each range, at its alignment (up to a page)
            new = placed.get((off, filesz))
            if new is None:
                out.extend(bytes(-len(out) % min(max(p[7], 1), PAGE)))
                new = placed[(off, filesz)] = len(out)
                out.extend(data[off:off + filesz])
                if len(out) > len(data) + (len(ph) + 1) * PAGE:
                    fail('%s: headers outside the segments hold more than the file' % name)
        p[2] = new
    eh[5], eh[6], eh[11], eh[12], eh[13] = EHDR.size, 0, 0, 0, 0
    EHDR.pack_into(out, 0, *eh)
    for i, p in enumerate(ph):
        PHDR.pack_into(out, EHDR.size + i * PHDR.size, *p)
    return bytes(out), ph


def check(data, out, name):
    _, old = headers(data, name)
    _, new = headers(out, 'the packed ' + name)
    if memory(data, old) != memory(out, new):
        fail('%s: the packed image would load differently' % name)
    for a, b in zip(old, new):
        if a[0] not in (PT_LOAD, PT_PHDR) and data[a[2]:a[2] + a[5]] != out[b[2]:b[2] + b[5]]:
            fail('%s: a header of type %#x would point at other bytes' % (name, a[0]))


def main():
    if len(sys.argv) != 3:
        sys.exit('usage: elf-pack.py IN OUT')
    src, dst = sys.argv[1:]
    with open(src, 'rb') as f:
        data = f.read()
    out, _ = pack(data, src)
    check(data, out, src)
    with open(dst, 'wb') as f:
        f.write(out)


if __name__ == '__main__':
    main()
