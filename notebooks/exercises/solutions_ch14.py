"""Reference solutions for the exercises of Chapter 14. Try them yourself first."""

import numpy as np


# Exercise 1: at step k every rank swaps its whole partial sum with the rank whose number
# differs in bit k, and adds what it receives; after log2(p) steps each holds the sum of all
def recursive_doubling_allreduce(arrays):
    p = len(arrays)
    values = [np.array(a, dtype=np.float64) for a in arrays]
    sent = [0] * p
    distance = 1
    while distance < p:
        received = [values[r ^ distance].copy() for r in range(p)]
        for r in range(p):
            sent[r] += values[r].size
        values = [values[r] + received[r] for r in range(p)]
        distance *= 2
    return values, sent


# Exercise 2: 2 (p - 1) steps (reduce-scatter, then all-gather), each sending one chunk of
# nbytes / p bytes and paying the latency once
def ring_allreduce_time(nbytes, p, bandwidth, latency):
    return 2 * (p - 1) * (latency + nbytes / p / bandwidth)


# Exercise 3: mixed-precision Adam keeps per parameter 2 bytes of fp16 weights, 2 of fp16
# gradients and 12 of optimizer state (fp32 master weights, m, v); ZeRO stage 1 shards the
# optimizer state over the GPUs, stage 2 the gradients too, stage 3 the weights as well
def zero_bytes_per_gpu(n_params, n_gpus, stage):
    weights, grads, states = 2 * n_params, 2 * n_params, 12 * n_params
    if stage >= 1:
        states /= n_gpus
    if stage >= 2:
        grads /= n_gpus
    if stage >= 3:
        weights /= n_gpus
    return weights + grads + states
