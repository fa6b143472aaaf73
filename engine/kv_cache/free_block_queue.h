// FreeBlockQueue: the free blocks of a BlockPool in reuse order, as an
// intrusive doubly linked list over block ids (prev/next arrays, one sentinel),
// so a block leaves from the middle in O(1) when a prefix-cache hit takes it
// back (vLLM v1's FreeKVCacheBlockQueue). The head is reused first; freed
// blocks join the tail, so the queue is also the LRU order of cached blocks.
//
// Thread ownership: the engine thread.
#pragma once

#include <cstdint>
#include <vector>

namespace gqa {

class FreeBlockQueue {
 public:
  // Holds 0, 1, ..., num_blocks - 1, in that order.
  explicit FreeBlockQueue(int num_blocks);

  int size() const { return size_; }
  bool empty() const { return size_ == 0; }
  bool contains(int32_t id) const { return next_[id] != kNotQueued; }

  // Preconditions: !contains(id) for PushBack, contains(id) for Remove,
  // !empty() for PopFront.
  void PushBack(int32_t id);
  int32_t PopFront();
  void Remove(int32_t id);

  std::vector<int32_t> ToVector() const;  // head to tail (tests, debugging)

 private:
  static constexpr int32_t kNotQueued = -1;
  int32_t sentinel() const { return static_cast<int32_t>(next_.size()) - 1; }

  // [num_blocks + 1]: the last entry is the sentinel (next_ = head, prev_ = tail);
  // next_[id] == kNotQueued for a block outside the queue.
  std::vector<int32_t> prev_;
  std::vector<int32_t> next_;
  int size_ = 0;
};

}  // namespace gqa
