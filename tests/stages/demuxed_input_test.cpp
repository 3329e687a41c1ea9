// What decode publishes about its input (stages/io/demuxed_input.h) for encode's stream copy:
// the other streams as ffprobe describes them, and their packets, kept only for the stages
// that asked, each getting every packet, within a bounded queue.
#include "stages/io/demuxed_input.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "pipeline/side_data.h"
#include "pipeline/stage.h"
#include "tests/support/media.h"
#include "tests/support/stage_harness.h"

namespace framepipe {
namespace {

namespace fs = std::filesystem;
using stages::DemuxedInput;
using stages::kDemuxedInput;
using stages::PacketQueue;
using testing::capture;
using testing::context_for;
using testing::probe;
using testing::shell_quote;
using testing::StageHarness;

// Video first, then AAC audio, then a second video stream, with a container title.
fs::path clip_with_audio_and_two_videos() {
  return testing::make_clip(
      "demuxed_av.mkv",
      "-f lavfi -i testsrc2=size=64x48:rate=10:duration=1 -f lavfi "
      "-i sine=frequency=440:sample_rate=44100:duration=1 -f lavfi "
      "-i testsrc=size=32x32:rate=10:duration=1 -map 0 -map 1 -map 2 -c:v libx264 -preset "
      "ultrafast -pix_fmt yuv420p -c:a aac -b:a 64k -metadata title=PublishedClip");
}

int drain(PacketQueue& queue) {
  int packets = 0;
  while (queue.take()) ++packets;
  return packets;
}

TEST(DemuxedInputTest, DecodePublishesTheStreamItDecodesAndTheOthersAsFfprobeSeesThem) {
  const auto input = clip_with_audio_and_two_videos();
  SideData side_data;
  StageHarness decode("{type: decode}", context_for(input, {}, &side_data));
  const auto published = side_data.get(kDemuxedInput);
  ASSERT_NE(published, nullptr);
  EXPECT_EQ(published->path, input.string());
  EXPECT_EQ(published->stream_count, 3u);
  EXPECT_EQ(std::to_string(published->video.index), probe(input, "v:0", "stream=index"));
  ASSERT_EQ(published->others.size(), 2u);
  const auto& audio = published->others[0];
  EXPECT_EQ(std::to_string(audio.index), probe(input, "a:0", "stream=index"));
  EXPECT_EQ(avcodec_get_name(audio.codecpar->codec_id), probe(input, "a:0", "stream=codec_name"));
  EXPECT_EQ(std::to_string(audio.time_base.num) + "/" + std::to_string(audio.time_base.den),
            probe(input, "a:0", "stream=time_base"));
  EXPECT_EQ(std::to_string(published->others[1].index), probe(input, "v:1", "stream=index"));
  const AVDictionaryEntry* title = av_dict_get(published->metadata.get(), "title", nullptr, 0);
  ASSERT_NE(title, nullptr);
  EXPECT_STREQ(title->value, "PublishedClip");
}

TEST(DemuxedInputTest, DecodesStreamPicksTheVideoItPublishes) {
  const auto input = clip_with_audio_and_two_videos();
  SideData side_data;
  StageHarness decode("{type: decode, params: {stream: 2}}", context_for(input, {}, &side_data));
  const auto published = side_data.get(kDemuxedInput);
  ASSERT_NE(published, nullptr);
  EXPECT_EQ(published->video.index, 2);
  EXPECT_EQ(published->video.codecpar->width, 32);
  ASSERT_EQ(published->others.size(), 2u);
  EXPECT_EQ(published->others[0].index, 0) << "the first video is an other stream now";
}

TEST(DemuxedInputTest, EachSubscriberGetsEveryPacketOfItsStreamsAndNoOthers) {
  const auto input = clip_with_audio_and_two_videos();
  SideData side_data;
  StageHarness decode("{type: decode}", context_for(input, {}, &side_data));
  const auto published = side_data.get(kDemuxedInput);
  ASSERT_NE(published, nullptr);
  const int audio = published->others[0].index;
  const int second_video = published->others[1].index;
  const auto first = published->subscribe({audio});
  const auto second = published->subscribe({audio, second_video});
  auto& source = dynamic_cast<SourceStage&>(decode.stage());
  while (source.next()) {
  }
  EXPECT_THROW(published->subscribe({audio}), std::logic_error) << "too late: decode has read";
  EXPECT_TRUE(first->ended());
  EXPECT_TRUE(second->ended());
  const int audio_packets =
      std::stoi(probe(input, "a:0", "stream=nb_read_packets", "-count_packets"));
  const int second_video_packets =
      std::stoi(probe(input, "v:1", "stream=nb_read_packets", "-count_packets"));
  EXPECT_GT(audio_packets, 0);
  EXPECT_EQ(drain(*first), audio_packets);
  EXPECT_EQ(drain(*second), audio_packets + second_video_packets);
}

// A consumer that never takes cannot make the queue hold more than its limit: past it the
// queue keeps nothing more and says so.
TEST(DemuxedInputTest, AQueueNobodyDrainsStopsAtItsLimit) {
  constexpr int kPacketBytes = 1 << 20;
  std::unique_ptr<AVPacket, stages::libav::PacketDeleter> packet(av_packet_alloc());
  ASSERT_EQ(av_new_packet(packet.get(), kPacketBytes), 0);
  PacketQueue queue;
  const int fitting = static_cast<int>(PacketQueue::kMaxBytes / kPacketBytes);
  // The pushed packets share one buffer, so the test itself holds 1 MiB.
  for (int i = 0; i < fitting + 10; ++i) queue.push(*packet);
  EXPECT_TRUE(queue.overflowed());
  EXPECT_EQ(drain(queue), fitting);
}

}  // namespace
}  // namespace framepipe
