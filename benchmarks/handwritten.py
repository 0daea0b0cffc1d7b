"""Hand-written gradients: the bar symdiff's generated code is measured against.

Each function takes the same arguments as the case it differentiates and returns the tuple of
gradients in ``wrt`` order. They are what a careful person writes: idiomatic NumPy, every
forward value computed once and reused, algebra done on paper (σ' = σ(1 − σ), softmax minus
labels), loop-invariant work hoisted, weight gradients of a loop accumulated with one matmul.
They avoid in-place and ``out=`` tricks, which few people write and which would make the bar
about memory management rather than differentiation.
"""

from __future__ import annotations

import math

import numpy as np


def sigmoid_sum(x):
    s = 1.0 / (1.0 + np.exp(-x))
    return (s * (1.0 - s),)


def tanh_sum(x):
    t = np.tanh(x)
    return (1.0 - t * t,)


def relu_sum(x):
    return ((x > 0).astype(x.dtype),)


def leaky_relu_sum(x):
    return (0.01 + 0.99 * (x > 0),)  # np.where on a random mask is ~5x slower


def softmax_xent(Z, Y):
    # d/dZ of -Σ Y·log softmax(Z) / n is (softmax(Z)·ΣY − Y) / n per row; the max shift cancels.
    n = Z.shape[0]
    E = np.exp(Z - np.max(Z, axis=1, keepdims=True))
    scale = np.sum(Y, axis=1, keepdims=True) / (n * np.sum(E, axis=1, keepdims=True))
    return (E * scale - Y * (1.0 / n),)


def dense_mse(W, b, X, Y):
    A = 1.0 / (1.0 + np.exp(-(X @ W.T + b)))
    dZ = (2.0 / A.size) * (A - Y) * A * (1.0 - A)
    return dZ.T @ X, np.sum(dZ, axis=0)


def mlp_xent(W1, b1, W2, b2, X, Y):
    n = X.shape[0]
    Z1 = X @ W1 + b1
    H = np.maximum(Z1, 0)
    Z = H @ W2 + b2
    E = np.exp(Z - np.max(Z, axis=1, keepdims=True))
    scale = np.sum(Y, axis=1, keepdims=True) / (n * np.sum(E, axis=1, keepdims=True))
    dZ = E * scale - Y * (1.0 / n)
    dZ1 = (dZ @ W2.T) * (Z1 > 0)
    return X.T @ dZ1, np.sum(dZ1, axis=0), H.T @ dZ, np.sum(dZ, axis=0)


def logreg(w, X, y):
    # The loss is mean(softplus(z) − y·z), so the gradient is Xᵀ(σ(z) − y)/n; the tanh form of
    # σ cannot overflow.
    z = X @ w
    p = 0.5 + 0.5 * np.tanh(0.5 * z)
    return (X.T @ ((p - y) * (1.0 / len(y))),)


def rnn(Wx, Wh, b, xs, h0):
    # Forward step by step as written, keeping every state; backward through time, with the
    # per-step pre-activation adjoints stacked so each weight gradient is a single matmul.
    T = xs.shape[0]
    hs = [h0]
    h = h0
    for t in range(T):
        h = np.tanh(Wx @ xs[t] + Wh @ h + b)
        hs.append(h)
    DA = np.empty((T, h0.shape[0]))
    dh = 2.0 * h
    for t in range(T - 1, -1, -1):
        ht = hs[t + 1]
        da = dh * (1.0 - ht * ht)
        DA[t] = da
        dh = da @ Wh  # Whᵀ·da without forming the transpose
    H = np.stack(hs[:-1])
    return DA.T @ xs, DA.T @ H, np.sum(DA, axis=0)


def gru(Wz, Uz, Wr, Ur, Wc, Uc, xs, h0):
    # Forward step by step keeping the gates; backward through time with the per-step
    # pre-activation adjoints stacked, so each of the six weight gradients is one matmul.
    T, n = xs.shape[0], h0.shape[0]
    hs, zs, rs, cs = [h0], [], [], []
    h = h0
    for t in range(T):
        x = xs[t]
        z = 1.0 / (1.0 + np.exp(-(Wz @ x + Uz @ h)))
        r = 1.0 / (1.0 + np.exp(-(Wr @ x + Ur @ h)))
        c = np.tanh(Wc @ x + Uc @ (r * h))
        h = (1.0 - z) * h + z * c
        hs.append(h)
        zs.append(z)
        rs.append(r)
        cs.append(c)
    H = np.stack(hs[1:])
    dH = np.empty_like(H)
    dH[:, :16] = 2.0 * H[:, :16]
    dH[:, 16:] = 1.0 / H[:, 16:].size
    DZ, DR, DC, RH = (np.empty((T, n)) for _ in range(4))
    dh = np.zeros(n)
    for t in range(T - 1, -1, -1):
        dh = dh + dH[t]
        hp, z, r, c = hs[t], zs[t], rs[t], cs[t]
        dc = dh * z * (1.0 - c * c)
        dz = dh * (c - hp) * z * (1.0 - z)
        drh = dc @ Uc
        dr = drh * hp * r * (1.0 - r)
        DZ[t], DR[t], DC[t], RH[t] = dz, dr, dc, r * hp
        dh = dh * (1.0 - z) + drh * r + dz @ Uz + dr @ Ur
    Hp = np.stack(hs[:-1])
    return DZ.T @ xs, DZ.T @ Hp, DR.T @ xs, DR.T @ Hp, DC.T @ xs, DC.T @ RH


def scalar_loop(x):
    # 0.1·sin(x) does not change inside the loop: computed once, its adjoint summed once.
    s = 0.1 * math.sin(x)
    ys = []
    cs = []
    y = x
    for _ in range(50):
        c = math.cos(y)
        ys.append(y)
        cs.append(c)
        y = y * c + s
    dy = 1.0
    ds = 0.0
    for i in range(49, -1, -1):
        yi = ys[i]
        ds += dy
        dy = dy * (cs[i] - yi * math.sin(yi))
    return (dy + ds * 0.1 * math.cos(x),)


def coupled_loop(x):
    # Each step reads y and z as they were before it: keep them and sin(y), which the forward
    # pass computes anyway; the adjoint of the constant term 0.1·x is summed once at the end.
    tape = []
    y = z = x
    for _ in range(50):
        s = math.sin(y)
        tape.append((y, z, s))
        y = s * z + 0.1 * x
        z = math.cos(z) + 0.3 * y
    dy = dz = 1.0
    total = 0.0
    for y, z, s in reversed(tape):
        dy_all = dy + 0.3 * dz  # y feeds the result and, in the same step, the new z
        total += dy_all
        dy, dz = dy_all * math.cos(y) * z, dy_all * s - dz * math.sin(z)
    return (dy + dz + 0.1 * total,)


def softmax_xent_vec(z, y):
    # d/dz of -Σ y·log softmax(z) is softmax(z)·Σy − y; the max shift cancels.
    e = np.exp(z - np.max(z))
    return (e * (np.sum(y) / np.sum(e)) - y,)


def demo_logreg(w, b, X, y):
    # The sigmoid's derivative cancels against the logarithms: Xᵀ(p − y)/n and mean(p − y).
    p = 1.0 / (1.0 + np.exp(-(X @ w + b)))
    d = (p - y) * (1.0 / len(y))
    return X.T @ d, np.sum(d)


def demo_newton(w, X, y):
    p = 1.0 / (1.0 + np.exp(-(X @ w)))
    return (X.T @ (p - y) / len(y) + 0.1 * w,)  # 0.1: NEWTON_LAMBDA in cases.py
