#!/usr/bin/env python3
"""testbed/iso/make-bad-gpt.py START_LBA END_LBA OUT: writes an 8 MiB disk image with a
protective MBR and a GPT whose headers and entry array carry valid CRCs but
whose one EFI system partition spans START_LBA..END_LBA as given (end before
start, or past the disk): a crafted table for the media and collect tests."""

import struct, sys, zlib

n = 8*1024*1024
img = bytearray(n)
sec = 512
nsec = n//sec
# protective MBR
img[446:446+16] = bytes([0,0,2,0,0xee,0xff,0xff,0xff]) + struct.pack('<II',1,min(nsec-1,0xffffffff))
img[510]=0x55; img[511]=0xaa
def entries(start,end):
    e = bytearray(128*128)
    ent = bytearray(128)
    ent[0:16] = bytes([0x28,0x73,0x2a,0xc1,0x1f,0xf8,0xd2,0x11,0xba,0x4b,0x00,0xa0,0xc9,0x3e,0xc9,0x3b])
    ent[16:32] = b'\x11'*16
    struct.pack_into('<QQ', ent, 32, start, end)
    e[0:128]=ent
    return e
def hdr(cur, backup, ent_lba, ecrc):
    h = bytearray(92)
    struct.pack_into('<8sIIIIQQQQ16sQIII', h, 0, b'EFI PART', 0x10000, 92, 0, 0, cur, backup, 34, nsec-34, b'\x22'*16, ent_lba, 128, 128, ecrc)
    c = zlib.crc32(bytes(h)) & 0xffffffff
    struct.pack_into('<I', h, 16, c)
    return h
start, end = int(sys.argv[1]), int(sys.argv[2])
e = entries(start,end)
ecrc = zlib.crc32(bytes(e)) & 0xffffffff
img[sec:sec+92] = hdr(1, nsec-1, 2, ecrc)
img[2*sec:2*sec+len(e)] = e
img[(nsec-33)*sec:(nsec-33)*sec+len(e)] = e
img[(nsec-1)*sec:(nsec-1)*sec+92] = hdr(nsec-1, 1, nsec-33, ecrc)
open(sys.argv[3],'wb').write(img)
