# cython: language_level=3
"""The kernel's classic BPF interface (linux/filter.h), declared once for every module."""
from libc.stdint cimport uint8_t, uint16_t, uint32_t

cdef extern from "linux/filter.h" nogil:
    enum:
        BPF_MAXINSNS  # the most instructions the kernel accepts in one filter (4096)
        BPF_MEMWORDS  # scratch memory words (16)

    struct sock_filter:
        uint16_t code
        uint8_t jt
        uint8_t jf
        uint32_t k

    struct sock_fprog:
        unsigned short len
        sock_filter *filter
