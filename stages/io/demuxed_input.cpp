#include "stages/io/demuxed_input.h"

#include <algorithm>
#include <new>
#include <stdexcept>

namespace framepipe::stages {

InputStream InputStream::of(const AVStream& stream) {
  InputStream copy;
  copy.index = stream.index;
  copy.codecpar.reset(avcodec_parameters_alloc());
  if (!copy.codecpar || avcodec_parameters_copy(copy.codecpar.get(), stream.codecpar) < 0) {
    throw std::bad_alloc();
  }
  copy.time_base = stream.time_base;
  copy.disposition = stream.disposition;
  AVDictionary* metadata = nullptr;
  if (av_dict_copy(&metadata, stream.metadata, 0) < 0) {
    av_dict_free(&metadata);
    throw std::bad_alloc();
  }
  copy.metadata.reset(metadata);
  return copy;
}

void PacketQueue::push(const AVPacket& packet) {
  std::unique_ptr<AVPacket, libav::PacketDeleter> copy(av_packet_alloc());
  if (!copy || av_packet_ref(copy.get(), &packet) < 0) throw std::bad_alloc();
  const auto size = static_cast<std::size_t>(std::max(copy->size, 0));
  std::lock_guard lock(mutex_);
  if (overflowed_ || bytes_ + size > kMaxBytes) {
    overflowed_ = true;
    return;
  }
  bytes_ += size;
  packets_.push_back(std::move(copy));
}

void PacketQueue::end() {
  std::lock_guard lock(mutex_);
  ended_ = true;
}

std::unique_ptr<AVPacket, libav::PacketDeleter> PacketQueue::take() {
  std::lock_guard lock(mutex_);
  if (packets_.empty()) return nullptr;
  auto packet = std::move(packets_.front());
  packets_.pop_front();
  bytes_ -= static_cast<std::size_t>(std::max(packet->size, 0));
  return packet;
}

bool PacketQueue::ended() const {
  std::lock_guard lock(mutex_);
  return ended_;
}

bool PacketQueue::overflowed() const {
  std::lock_guard lock(mutex_);
  return overflowed_;
}

std::shared_ptr<PacketQueue> DemuxedInput::subscribe(const std::vector<int>& streams) {
  std::lock_guard lock(mutex_);
  if (started_) {
    throw std::logic_error("the packets of '" + path +
                           "' were asked for after decode started reading them");
  }
  auto queue = std::make_shared<PacketQueue>();
  subscribers_.push_back({streams, queue});
  return queue;
}

bool DemuxedInput::wanted(int stream) {
  std::lock_guard lock(mutex_);
  started_ = true;
  return std::any_of(subscribers_.begin(), subscribers_.end(), [&](const Subscriber& s) {
    return std::find(s.streams.begin(), s.streams.end(), stream) != s.streams.end();
  });
}

void DemuxedInput::publish(const AVPacket& packet) {
  std::lock_guard lock(mutex_);
  started_ = true;
  for (const auto& subscriber : subscribers_) {
    const auto& streams = subscriber.streams;
    if (std::find(streams.begin(), streams.end(), packet.stream_index) != streams.end()) {
      subscriber.queue->push(packet);
    }
  }
}

void DemuxedInput::end() {
  std::lock_guard lock(mutex_);
  started_ = true;
  for (const auto& subscriber : subscribers_) subscriber.queue->end();
}

}  // namespace framepipe::stages
