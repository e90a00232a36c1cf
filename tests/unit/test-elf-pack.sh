#!/usr/bin/env bash
# hypervisor/elf-pack.py: the same memory image in fewer bytes, on ELF files
# made here:
#   - a segment's trailing zeros leave the file (p_filesz shrinks to its last
#     non-zero byte, p_memsz stays), zeros inside it stay
#   - segments at page-aligned offsets congruent to their p_vaddr, p_align the
#     page; a 2 MiB gap between them is gone
#   - a PT_NOTE inside a segment points at the same bytes in its new place; one
#     outside every segment is copied after them
#   - the section headers are dropped; the entry point and every address kept
#   - the loaded image (each PT_LOAD's p_memsz from p_paddr) is the same, read
#     back by this test's own reader
#   - refused, with exit status 1 and a message naming the file: not ELF, ELF32,
#     big-endian, program headers past the end, a segment past the end, a
#     segment with more in the file than in memory, no PT_LOAD
set -uo pipefail
root=${XENCI_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
python3 - "$root/hypervisor/elf-pack.py" "$tmp" <<'EOF'
import struct, subprocess, sys
pack, tmp = sys.argv[1:]
passed = failed = 0
def ok(name, cond, detail=''):
    global passed, failed
    if cond:
        passed += 1
    else:
        failed += 1
        print('FAIL %s %s' % (name, detail))

EH = struct.Struct('<16sHHIQQQIHHHHHH')
PH = struct.Struct('<IIQQQQQQ')
def elf(segs, notes=(), shdrs=True, ident=b'\x7fELF\x02\x01\x01'):
    """segs: (vaddr, paddr, data, memsz, offset); notes: (offset, bytes)."""
    phs = [(1, 5, off, va, pa, len(data), memsz, 0x200000) for va, pa, data, memsz, off in segs]
    phs += [(4, 4, off, 0, 0, len(b), len(b), 4) for off, b in notes]
    size = max([off + len(d) for _, _, d, _, off in segs] + [off + len(b) for off, b in notes])
    out = bytearray(size + 64 * 3)
    for va, pa, data, memsz, off in segs:
        out[off:off + len(data)] = data
    for off, b in notes:
        out[off:off + len(b)] = b
    shoff = size if shdrs else 0
    EH.pack_into(out, 0, ident.ljust(16, b'\0'), 2, 62, 1, 0x1000000, 64, shoff, 0, 64, 56,
                 len(phs), 64, 3 if shdrs else 0, 1 if shdrs else 0)
    for i, p in enumerate(phs):
        PH.pack_into(out, 64 + i * 56, *p)
    return bytes(out)

def read(data):
    eh = EH.unpack_from(data, 0)
    phs = [PH.unpack_from(data, eh[5] + i * 56) for i in range(eh[10])]
    return eh, phs

def image(data):
    """(paddr, memsz, sha256 of the memsz bytes loaded), zeros hashed without
    being made (a mutant's p_memsz can be anything)."""
    import hashlib
    eh, phs = read(data)
    out = []
    for p in phs:
        if p[0] != 1:
            continue
        h = hashlib.sha256(data[p[2]:p[2] + p[5]])
        left = p[6] - p[5]
        zeros = bytes(min(left, 1 << 20))
        while left > 0:
            if left > 64 << 20:
                return 'too big to hash'
            h.update(zeros[:min(left, len(zeros))])
            left -= len(zeros)
        out.append((p[4], p[6], h.hexdigest()))
    return out

def run(data, name):
    src, dst = '%s/%s.in' % (tmp, name), '%s/%s.out' % (tmp, name)
    open(src, 'wb').write(data)
    r = subprocess.run([sys.executable, pack, src, dst], capture_output=True, text=True)
    return r, (open(dst, 'rb').read() if r.returncode == 0 else None), src

text = bytes(range(1, 256)) * 40 + bytes(3000) + b'tail' + bytes(9000)  # zeros inside, then a tail
note = b'\x04\x00\x00\x00\x04\x00\x00\x00\x01\x00\x00\x00Xen\x00abcd'
data = bytes(b'\x11' * 5000) + bytes(7000)
segs = [(0xffffffff81000000, 0x1000000, text, len(text) + 4096, 0x200000),
        (0xffffffff81400000, 0x1400000, data, len(data) + 65536, 0x400000)]
notes = [(0x200000 + 100, text[100:100 + len(note)]),  # inside the first segment
         (0x600000, note)]                              # outside every segment
src = elf(segs, notes)
r, out, _ = run(src, 'good')
ok('packs', r.returncode == 0, r.stderr)
if out:
    eh, phs = read(out)
    ok('smaller', len(out) < 40000, len(out))
    ok('same loaded image', image(out) == image(src))
    ok('entry kept', eh[4] == 0x1000000)
    ok('no section headers', eh[6] == 0 and eh[11] == 0 and eh[12] == 0 and eh[13] == 0, eh)
    loads = [p for p in phs if p[0] == 1]
    ok('trailing zeros out', loads[0][5] == len(text) - 9000, loads[0][5])
    ok('zeros inside kept', loads[0][5] > len(bytes(range(1, 256)) * 40) + 3000)
    ok('memsz kept', [p[6] for p in loads] == [len(text) + 4096, len(data) + 65536])
    ok('page-aligned, congruent', all(p[2] % 4096 == p[3] % 4096 and p[7] == 4096 for p in loads),
       [(hex(p[2]), hex(p[3]), p[7]) for p in loads])
    ok('second segment trimmed', loads[1][5] == 5000, loads[1][5])
    ok('gap gone', loads[1][2] < 0x10000, hex(loads[1][2]))
    n = [p for p in phs if p[0] == 4]
    ok('note inside a segment: same bytes', out[n[0][2]:n[0][2] + n[0][5]] == notes[0][1])
    ok('note inside a segment: within it', loads[0][2] <= n[0][2] < loads[0][2] + loads[0][5])
    ok('note outside: same bytes', out[n[1][2]:n[1][2] + n[1][5]] == note)
    ok('note outside: after the segments', n[1][2] >= loads[1][2] + loads[1][5])
    r2, again, _ = run(out, 'again')
    ok('packing twice: the same image', again is not None and image(again) == image(src))

# many headers outside the segments over the same bytes: appended once
many_notes = elf(segs, [(0x600000, note)] * 40)
r, out, _ = run(many_notes, 'many-notes')
ok('one copy of a range many headers share', out is not None and len(out) < 40000,
   (r.stderr, out and len(out)))
# a PT_PHDR: the new table
ph_src = bytearray(elf(segs, notes))
struct.pack_into('<H', ph_src, 0x38, 5)
PH.pack_into(ph_src, 64 + 4 * 56, 6, 4, 64, 0, 0, 4 * 56, 4 * 56, 8)
r, out, _ = run(bytes(ph_src), 'phdr')
if out:
    phs = read(out)[1]
    ok('PT_PHDR points at the new table', phs[4][2] == 64 and phs[4][5] == 5 * 56, phs[4])
else:
    ok('PT_PHDR packs', False, r.stderr)

def refused(name, data, words):
    r, out, src = run(data, name)
    ok('refused: ' + name, r.returncode == 1 and out is None and src in r.stderr and
       all(w in r.stderr for w in words), (r.returncode, r.stderr))

refused('not ELF', b'MZ' + bytes(200), ['not an ELF'])
refused('ELF32', elf(segs, ident=b'\x7fELF\x01\x01\x01'), ['ELF64'])
refused('big-endian', elf(segs, ident=b'\x7fELF\x02\x02\x01'), ['little-endian'])
bad = bytearray(src)
struct.pack_into('<Q', bad, 0x20, len(src) - 10)
refused('program headers past the end', bytes(bad), ['program headers outside'])
bad = bytearray(src)
struct.pack_into('<Q', bad, 64 + 8, len(src) - 10)
refused('segment past the end', bytes(bad), ['past the end'])
bad = bytearray(src)
struct.pack_into('<Q', bad, 64 + 40, 10)
refused('more in the file than in memory', bytes(bad), ['more in the file'])
refused('no PT_LOAD', elf([], notes=[(0x1000, note)]), ['no PT_LOAD'])
refused('overlapping segments', elf([segs[0], (0xffffffff82000000, 0x2000000, text, len(text),
                                               0x200000 + 4096)]), ['overlap'])
many = bytearray(src)
struct.pack_into('<H', many, 0x38, 65)
refused('65 program headers', bytes(many), ['65 program headers'])
big = elf([(0xffffffff81000000, 0x1000000, b'\x11' * 100, 100, 0x1000)],
          [(0x2000 + i * 8, b'\x22' * 200000) for i in range(40)])  # overlapping ranges
refused('headers outside the segments holding more than the file', big, ['hold more'])
# Headers mutated at random (a fixed seed): each ends in the packed image
# loading the same, or in elf-pack.py's own refusal (SystemExit with a message
# naming the file), never in another exception.
import importlib.util, random
spec = importlib.util.spec_from_file_location('elf_pack', pack)
mod = importlib.util.module_from_spec(spec)
spec.loader.exec_module(mod)
rng = random.Random(20)
small = elf([(0xffffffff81000000, 0x1000000, b'\x11' * 300 + bytes(700), 1200, 0x1000)],
            [(0x1000 + 40, b'\x11' * 24)])
crashes, packed, refusals = [], 0, 0
for i in range(3000):
    m = bytearray(small)
    for _ in range(rng.randint(1, 4)):
        at = rng.randrange(0, 64 + 2 * 56)
        m[at] = rng.randrange(256) if rng.random() < 0.7 else m[at] ^ (1 << rng.randrange(8))
    try:
        out, _ = mod.pack(bytes(m), 'mutant')
        mod.check(bytes(m), out, 'mutant')
        packed += 1
        if image(out) != image(bytes(m)) and image(out) != 'too big to hash':
            crashes.append((i, 'image differs'))
    except SystemExit as e:
        refusals += 1
        if not str(e.code).startswith('elf-pack.py: mutant'):
            crashes.append((i, e.code))
    except Exception as e:  # noqa: BLE001 - what the test is for
        crashes.append((i, repr(e)))
ok('mutants: packed or refused', not crashes, crashes[:3])
ok('mutants: both ways met', packed > 100 and refusals > 100, (packed, refusals))
print('%d passed, %d failed' % (passed, failed))
sys.exit(1 if failed else 0)
EOF
