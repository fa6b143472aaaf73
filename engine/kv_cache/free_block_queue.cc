#include "engine/kv_cache/free_block_queue.h"

#include <cassert>

namespace gqa {

FreeBlockQueue::FreeBlockQueue(int num_blocks) : prev_(num_blocks + 1), next_(num_blocks + 1) {
  const int32_t s = sentinel();
  next_[s] = prev_[s] = s;
  for (int32_t id = 0; id < num_blocks; ++id) {
    next_[id] = kNotQueued;
    PushBack(id);
  }
}

void FreeBlockQueue::PushBack(int32_t id) {
  assert(!contains(id));
  const int32_t s = sentinel();
  const int32_t tail = prev_[s];
  next_[tail] = id;
  prev_[id] = tail;
  next_[id] = s;
  prev_[s] = id;
  ++size_;
}

int32_t FreeBlockQueue::PopFront() {
  assert(!empty());
  const int32_t head = next_[sentinel()];
  Remove(head);
  return head;
}

void FreeBlockQueue::Remove(int32_t id) {
  assert(contains(id));
  next_[prev_[id]] = next_[id];
  prev_[next_[id]] = prev_[id];
  next_[id] = kNotQueued;
  --size_;
}

std::vector<int32_t> FreeBlockQueue::ToVector() const {
  std::vector<int32_t> ids;
  for (int32_t id = next_[sentinel()]; id != sentinel(); id = next_[id]) ids.push_back(id);
  return ids;
}

}  // namespace gqa
