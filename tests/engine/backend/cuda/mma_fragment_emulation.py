#!/usr/bin/env python3
# Lane-exact NumPy emulation of the mma.sync m16n8k16 fragment flow of
# engine/backend/cuda/attention_decode.cu (K/V loaded straight into fragments
# with permuted head_dim / output-dim indices) and attention_prefill.cu
# (ldmatrix / ldmatrix.trans on swizzled shared-memory tiles), checked against
# plain softmax attention. It checks the index math only (no GPU needed):
# re-run it after changing a kernel's fragment or address arithmetic, and keep
# it in step with the kernels. Needs numpy. Not part of ctest.
import numpy as np
rng = np.random.default_rng(0)

def mma(c, a, b):
    """c[lane][4], a[lane][4 regs of 2 elems], b[lane][2 regs of 2 elems] -> updates c.
    Uses the PTX fragment layout."""
    A = np.zeros((16, 16)); B = np.zeros((16, 8))
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        A[g, 2*t:2*t+2] = a[lane][0]; A[g+8, 2*t:2*t+2] = a[lane][1]
        A[g, 2*t+8:2*t+10] = a[lane][2]; A[g+8, 2*t+8:2*t+10] = a[lane][3]
        B[2*t:2*t+2, g] = b[lane][0]; B[2*t+8:2*t+10, g] = b[lane][1]
    C = A @ B
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        c[lane][0] += C[g, 2*t]; c[lane][1] += C[g, 2*t+1]
        c[lane][2] += C[g+8, 2*t]; c[lane][3] += C[g+8, 2*t+1]

def words(vec8):  # 8 elements -> 4 words of 2
    return [vec8[0:2], vec8[2:4], vec8[4:6], vec8[6:8]]

def decode_warp(Q, K, V, ctx, D, scale):
    """Q [16, D] (rows >= G zero), K/V [nkeys_padded, D] for chunks; one warp does all chunks."""
    KP, KS, NC, NT = D//32, D//16, D//64, D//8
    log2e = 1.4426950408889634
    qa = [[None]*4 for _ in range(KS)]
    qa = [[[None]*4 for _ in range(KS)] for _ in range(32)]
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        for kp in range(KP):
            lo = words(Q[g, 32*kp+8*t:32*kp+8*t+8]); hi = words(Q[g+8, 32*kp+8*t:32*kp+8*t+8])
            qa[lane][2*kp] = [lo[0], hi[0], lo[1], hi[1]]
            qa[lane][2*kp+1] = [lo[2], hi[2], lo[3], hi[3]]
    o = [[[0.0]*4 for _ in range(NT)] for _ in range(32)]
    m_lo = [-np.inf]*32; m_hi = [-np.inf]*32; l_lo = [0.0]*32; l_hi = [0.0]*32
    nchunks = (ctx + 15)//16
    for c in range(nchunks):
        key0 = 16*c
        kr = [[[None]*KP for _ in range(2)] for _ in range(32)]
        vr = [[[None]*NC for _ in range(4)] for _ in range(32)]
        for lane in range(32):
            g, t = lane >> 2, lane & 3
            for j in range(2):
                valid = key0 + 8*j + g < ctx
                for kp in range(KP):
                    kr[lane][j][kp] = words(K[key0+8*j+g, 32*kp+8*t:32*kp+8*t+8] if valid else np.zeros(8))
            for i in range(4):
                key = 2*t + (i & 1) + 8*(i >> 1)
                valid = key0 + key < ctx
                for cc in range(NC):
                    vr[lane][i][cc] = V[key0+key, 64*cc+8*g:64*cc+8*g+8] if valid else np.zeros(8)
        sc = [[[0.0]*4 for _ in range(2)] for _ in range(32)]
        for j in range(2):
            cj = [sc[l][j] for l in range(32)]
            for kp in range(KP):
                mma(cj, [qa[l][2*kp] for l in range(32)], [[kr[l][j][kp][0], kr[l][j][kp][1]] for l in range(32)])
                mma(cj, [qa[l][2*kp+1] for l in range(32)], [[kr[l][j][kp][2], kr[l][j][kp][3]] for l in range(32)])
        mx_lo = [0]*32; mx_hi = [0]*32
        for lane in range(32):
            g, t = lane >> 2, lane & 3
            a_, b_ = -np.inf, -np.inf
            for j in range(2):
                for e in range(2):
                    valid = key0 + 8*j + 2*t + e < ctx
                    sc[lane][j][e] = sc[lane][j][e]*scale*log2e if valid else -np.inf
                    sc[lane][j][2+e] = sc[lane][j][2+e]*scale*log2e if valid else -np.inf
                    a_ = max(a_, sc[lane][j][e]); b_ = max(b_, sc[lane][j][2+e])
            mx_lo[lane], mx_hi[lane] = a_, b_
        for lane in range(32):
            q0 = lane & ~3
            qmx_lo = max(mx_lo[q0:q0+4]); qmx_hi = max(mx_hi[q0:q0+4])
            new_lo = max(m_lo[lane], qmx_lo); new_hi = max(m_hi[lane], qmx_hi)
            corr_lo = 2**(m_lo[lane]-new_lo); corr_hi = 2**(m_hi[lane]-new_hi)
            m_lo[lane], m_hi[lane] = new_lo, new_hi
            s_lo = s_hi = 0
            for j in range(2):
                for e in range(2):
                    sc[lane][j][e] = 2**(sc[lane][j][e]-new_lo); sc[lane][j][2+e] = 2**(sc[lane][j][2+e]-new_hi)
                    s_lo += sc[lane][j][e]; s_hi += sc[lane][j][2+e]
            l_lo[lane] = l_lo[lane]*corr_lo + s_lo; l_hi[lane] = l_hi[lane]*corr_hi + s_hi
            for j in range(NT):
                o[lane][j][0] *= corr_lo; o[lane][j][1] *= corr_lo; o[lane][j][2] *= corr_hi; o[lane][j][3] *= corr_hi
        pa = [[np.array([sc[l][0][0], sc[l][0][1]]), np.array([sc[l][0][2], sc[l][0][3]]),
               np.array([sc[l][1][0], sc[l][1][1]]), np.array([sc[l][1][2], sc[l][1][3]])] for l in range(32)]
        for cc in range(NC):
            for e in range(8):
                b = []
                for l in range(32):
                    k0, k1, k8, k9 = (vr[l][i][cc] for i in range(4))
                    b.append([np.array([k0[e], k1[e]]), np.array([k8[e], k9[e]])])
                mma([o[l][8*cc+e] for l in range(32)], pa, b)
    # output per row
    L_lo = [sum(l_lo[(l & ~3):(l & ~3)+4]) for l in range(32)]
    L_hi = [sum(l_hi[(l & ~3):(l & ~3)+4]) for l in range(32)]
    out = np.zeros((16, D))
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        for cc in range(NC):
            for e in range(8):
                dim = 64*cc + 16*t + e
                out[g, dim] = o[lane][8*cc+e][0]/L_lo[lane]; out[g, dim+8] = o[lane][8*cc+e][1]/L_lo[lane]
                out[g+8, dim] = o[lane][8*cc+e][2]/L_hi[lane]; out[g+8, dim+8] = o[lane][8*cc+e][3]/L_hi[lane]
    return out

def ref_attn(Q, K, V, ctx, scale):
    s = Q @ K[:ctx].T * scale
    s = s - s.max(1, keepdims=True); p = np.exp(s); p /= p.sum(1, keepdims=True)
    return p @ V[:ctx]

for D in (64, 128):
    for G in (1, 4, 16):
        for ctx in (1, 7, 16, 33, 50):
            Q = np.zeros((16, D)); Q[:G] = rng.standard_normal((G, D))
            npad = ((ctx+15)//16)*16
            K = rng.standard_normal((npad, D)); V = rng.standard_normal((npad, D))
            K[ctx:] = np.nan; V[ctx:] = np.nan  # unwritten slots
            out = decode_warp(Q, K, V, ctx, D, 1/np.sqrt(D))
            ref = ref_attn(Q[:G], K, V, ctx, 1/np.sqrt(D))
            err = np.abs(out[:G]-ref).max()
            assert err < 1e-9, (D, G, ctx, err)
print("decode fragment flow OK")

# ---- prefill: ldmatrix with swizzle ----
def swz(r, chunk, D):
    return r*D + ((chunk ^ (r & 7)) << 3)

def ldmatrix_x4(smem, addrs, trans=False):
    """addrs[lane] = element offset of the row start lane supplies (lanes 8m..8m+7 -> matrix m).
    returns r[lane][m] = 2 elements."""
    mats = []
    for m in range(4):
        M = np.array([smem[addrs[8*m+i]:addrs[8*m+i]+8] for i in range(8)])
        mats.append(M.T if trans else M)
    return [[mats[m][lane >> 2, 2*(lane & 3):2*(lane & 3)+2] for m in range(4)] for lane in range(32)]

def prefill_warp(Qt, Kt, Vt, pos, D, scale, BK=64):
    """Qt [16, D] rows of this warp, Kt/Vt [nkeys, D] (zero past num_keys), pos[16] positions."""
    KS, NT = D//16, D//8
    log2e = 1.4426950408889634
    # smem tiles swizzled: Q has 16 rows here (warp 0)
    qs = np.zeros(16*D)
    for r in range(16):
        for c in range(D//8): qs[swz(r, c, D):swz(r, c, D)+8] = Qt[r, 8*c:8*c+8]
    qa = [None]*KS
    for kk in range(KS):
        addrs = []
        for lane in range(32):
            m = lane >> 3; r = (m & 1)*8 + (lane & 7)
            addrs.append(swz(r, 2*kk + (m >> 1), D))
        qa[kk] = ldmatrix_x4(qs, addrs)
    nkeys = Kt.shape[0]; nkt = (nkeys + BK - 1)//BK
    o = [[[0.0]*4 for _ in range(NT)] for _ in range(32)]
    m_lo = [-np.inf]*32; m_hi = [-np.inf]*32; l_lo = [0.0]*32; l_hi = [0.0]*32
    for kt in range(nkt):
        ks_ = np.zeros(BK*D); vs_ = np.zeros(BK*D)
        for r in range(BK):
            key = kt*BK + r
            for c in range(D//8):
                if key < nkeys:
                    ks_[swz(r, c, D):swz(r, c, D)+8] = Kt[key, 8*c:8*c+8]
                    vs_[swz(r, c, D):swz(r, c, D)+8] = Vt[key, 8*c:8*c+8]
        sc = [[[0.0]*4 for _ in range(BK//8)] for _ in range(32)]
        for j in range(BK//8):
            for kk in range(0, KS, 2):
                addrs = [swz(8*j + (lane & 7), 2*kk + (lane >> 3), D) for lane in range(32)]
                b = ldmatrix_x4(ks_, addrs)
                mma([sc[l][j] for l in range(32)], qa[kk], [[b[l][0], b[l][1]] for l in range(32)])
                mma([sc[l][j] for l in range(32)], qa[kk+1], [[b[l][2], b[l][3]] for l in range(32)])
        mxl = [0]*32; mxh = [0]*32
        for lane in range(32):
            g, t = lane >> 2, lane & 3
            a_ = b_ = -np.inf
            for j in range(BK//8):
                for e in range(2):
                    key = kt*BK + 8*j + 2*t + e
                    sc[lane][j][e] = sc[lane][j][e]*scale*log2e if key <= pos[g] else -np.inf
                    sc[lane][j][2+e] = sc[lane][j][2+e]*scale*log2e if key <= pos[g+8] else -np.inf
                    a_ = max(a_, sc[lane][j][e]); b_ = max(b_, sc[lane][j][2+e])
            mxl[lane], mxh[lane] = a_, b_
        for lane in range(32):
            q0 = lane & ~3
            nl = max(m_lo[lane], max(mxl[q0:q0+4])); nh = max(m_hi[lane], max(mxh[q0:q0+4]))
            cl = 2**(m_lo[lane]-nl); ch = 2**(m_hi[lane]-nh); m_lo[lane], m_hi[lane] = nl, nh
            sl = sh = 0
            for j in range(BK//8):
                for e in range(2):
                    sc[lane][j][e] = 2**(sc[lane][j][e]-nl); sc[lane][j][2+e] = 2**(sc[lane][j][2+e]-nh)
                    sl += sc[lane][j][e]; sh += sc[lane][j][2+e]
            l_lo[lane] = l_lo[lane]*cl + sl; l_hi[lane] = l_hi[lane]*ch + sh
            for j in range(NT):
                o[lane][j][0] *= cl; o[lane][j][1] *= cl; o[lane][j][2] *= ch; o[lane][j][3] *= ch
        for ks in range(BK//16):
            pa = [[np.array(sc[l][2*ks][0:2]), np.array(sc[l][2*ks][2:4]),
                   np.array(sc[l][2*ks+1][0:2]), np.array(sc[l][2*ks+1][2:4])] for l in range(32)]
            for jn in range(0, NT, 2):
                addrs = []
                for lane in range(32):
                    m = lane >> 3; key = 16*ks + (m & 1)*8 + (lane & 7)
                    addrs.append(swz(key, jn + (m >> 1), D))
                b = ldmatrix_x4(vs_, addrs, trans=True)
                mma([o[l][jn] for l in range(32)], pa, [[b[l][0], b[l][1]] for l in range(32)])
                mma([o[l][jn+1] for l in range(32)], pa, [[b[l][2], b[l][3]] for l in range(32)])
    out = np.zeros((16, D))
    for lane in range(32):
        g, t = lane >> 2, lane & 3
        q0 = lane & ~3
        Ll = sum(l_lo[q0:q0+4]); Lh = sum(l_hi[q0:q0+4])
        for jn in range(NT):
            out[g, 8*jn+2*t:8*jn+2*t+2] = np.array(o[lane][jn][0:2])/Ll
            out[g+8, 8*jn+2*t:8*jn+2*t+2] = np.array(o[lane][jn][2:4])/Lh
    return out

for D in (64, 128):
    for nkeys in (5, 64, 70, 130):
        Qt = rng.standard_normal((16, D)); Kt = rng.standard_normal((nkeys, D)); Vt = rng.standard_normal((nkeys, D))
        pos = rng.integers(0, nkeys, 16); pos[-1] = nkeys - 1
        out = prefill_warp(Qt, Kt, Vt, pos, D, 1/np.sqrt(D))
        for r in range(16):
            ref = ref_attn(Qt[r:r+1], Kt, Vt, pos[r]+1, 1/np.sqrt(D))
            err = np.abs(out[r]-ref[0]).max()
            assert err < 1e-9, (D, nkeys, r, err)
print("prefill fragment flow OK")
