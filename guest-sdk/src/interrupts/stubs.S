/* Interrupt entry: one stub per vector and the shared path that saves registers and SSE state. */

/* Vectors for which the CPU pushes an error code; the others get a zero so every frame looks alike. */
#define HAS_ERROR_CODE(v) ((v) == 8 || (v) == 10 || (v) == 11 || (v) == 12 || (v) == 13 || (v) == 14 || \
                           (v) == 17 || (v) == 21 || (v) == 29 || (v) == 30)

    .altmacro
    .macro interrupt_stub vector
    .balign 16
interrupt_stub_\vector:
    .if HAS_ERROR_CODE(\vector)
    .else
    push $0
    .endif
    push $\vector
    jmp interrupt_common
    .endm

    .macro interrupt_stub_address vector
    .quad interrupt_stub_\vector
    .endm

    .text
    .code64
    .set vector, 0
    .rept 256
    interrupt_stub %vector
    .set vector, vector + 1
    .endr

interrupt_common:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rbx                    /* the Frame; rbx is callee-saved across the call */
    sub $512, %rsp
    and $-16, %rsp
    /* The interrupted code may be mid-way through SSE math: keep its state out of the handler's way. */
    fxsave (%rsp)
    mov %rbx, %rdi
    cld
    call interrupt_dispatch
    fxrstor (%rsp)
    mov %rbx, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    add $16, %rsp                     /* vector and error code */
    iretq

    .section .rodata
    .balign 8
    .globl interrupt_stub_table
interrupt_stub_table:
    .set vector, 0
    .rept 256
    interrupt_stub_address %vector
    .set vector, vector + 1
    .endr

    .section .note.GNU-stack, "", @progbits
