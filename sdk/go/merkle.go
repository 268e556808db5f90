package atomic

import (
	"bytes"
	"crypto/sha256"
)

// RFC 9162 Merkle tree hashing, as the gateway's audit log builds its tree.

const hashSize = 32

// LeafHash is SHA-256(0x00 ‖ leaf): what the tree and an inclusion proof start from.
func LeafHash(leaf []byte) []byte {
	sum := sha256.Sum256(append([]byte{0x00}, leaf...))
	return sum[:]
}

func nodeHash(left, right []byte) []byte {
	buffer := make([]byte, 0, 1+2*hashSize)
	buffer = append(append(append(buffer, 0x01), left...), right...)
	sum := sha256.Sum256(buffer)
	return sum[:]
}

// VerifyInclusion is RFC 9162 §2.1.3.2: whether proof leads from the leaf hash at index to root, in a tree of
// size leaves.
func VerifyInclusion(index, size uint64, leafHash []byte, proof [][]byte, root []byte) bool {
	if index >= size || len(leafHash) != hashSize || len(root) != hashSize {
		return false
	}
	fn, sn, r := index, size-1, leafHash
	for _, p := range proof {
		if len(p) != hashSize || sn == 0 {
			return false
		}
		if fn%2 == 1 || fn == sn {
			r = nodeHash(p, r)
			if fn%2 == 0 {
				for fn%2 == 0 && fn != 0 {
					fn /= 2
					sn /= 2
				}
			}
		} else {
			r = nodeHash(r, p)
		}
		fn /= 2
		sn /= 2
	}
	return sn == 0 && bytes.Equal(r, root)
}
