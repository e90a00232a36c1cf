#!/usr/bin/env python3
"""mkcpio.py LIST OUT — write the newc cpio archive (uncompressed) that LIST
describes, gen_init_cpio style, one entry a line:
    dir NAME MODE
    file NAME SOURCE MODE
    slink NAME TARGET MODE
    nod NAME MODE c|b MAJOR MINOR
    tree NAME SOURCEDIR     every folder, file and symlink under SOURCEDIR
                            as NAME/..., in sorted order, with their modes
No root is needed for device nodes, and the archive is byte-for-byte
reproducible: uid/gid 0, mtime 0, inode numbers in listing order. Linux reads
several such archives one after the other (a later entry replaces an earlier
one of the same name), so an archive can be appended to another with cat.
Exit status 1 on an unknown entry or an unreadable file."""
import os, sys
listing, dst = sys.argv[1:]
out = bytearray()
ino = 1
def entry(name, mode, data=b'', rdev=(0, 0), nlink=1):
    global ino
    name = name.lstrip('/').encode() + b'\0'
    hdr = '070701' + ''.join('%08X' % v for v in (
        ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rdev[0], rdev[1],
        len(name), 0))
    ino += 1
    out.extend(hdr.encode() + name)
    out.extend(b'\0' * (-len(out) % 4))
    out.extend(data)
    out.extend(b'\0' * (-len(out) % 4))
def walk(name, src):
    for sub in sorted(os.listdir(src)):
        path, dst = os.path.join(src, sub), name.rstrip('/') + '/' + sub
        st = os.lstat(path)
        perm = st.st_mode & 0o7777
        if os.path.islink(path):
            entry(dst, kinds['slink'] | 0o777, os.readlink(path).encode())
        elif os.path.isdir(path):
            entry(dst, kinds['dir'] | perm, nlink=2)
            walk(dst, path)
        elif os.path.isfile(path):
            entry(dst, kinds['file'] | perm, open(path, 'rb').read())
        else:
            sys.exit('%s: not a file, folder or symlink' % path)
kinds = {'dir': 0o040000, 'file': 0o100000, 'slink': 0o120000}
for line in open(listing):
    f = line.split()
    if not f or f[0].startswith('#'):
        continue
    kind, name = f[0], f[1]
    if kind == 'dir':
        entry(name, kinds['dir'] | int(f[2], 8), nlink=2)
    elif kind == 'file':
        entry(name, kinds['file'] | int(f[3], 8), open(f[2], 'rb').read())
    elif kind == 'slink':
        entry(name, kinds['slink'] | int(f[3], 8), f[2].encode())
    elif kind == 'nod':
        t = {'c': 0o020000, 'b': 0o060000}[f[3]]
        entry(name, t | int(f[2], 8), rdev=(int(f[4]), int(f[5])))
    elif kind == 'tree':
        walk(name, f[2])
    else:
        sys.exit('unknown listing entry: ' + line)
entry('TRAILER!!!', 0)
out.extend(b'\0' * (-len(out) % 512))
with open(dst, 'wb') as fh:
    fh.write(out)
