// Tests for the trace readers: both formats round-trip, and every malformed trace is refused with a
// message naming file, line, column and what was expected.
#include "sensors/trace.hpp"

#include <gtest/gtest.h>

#include <fstream>

namespace tilehv::vdevices::sensors {
namespace {

std::string csv(std::string_view records) {
  return std::string("tilehv-sensor-trace,1,thermal0,thermal\ntimestamp_ns,channel,value\n") + std::string(records);
}

std::string jsonl(std::string_view records) {
  return std::string(R"({"format":"tilehv-sensor-trace","version":1,"name":"m0","kind":"mmwave"})") + "\n" +
         std::string(records);
}

std::string csv_error(std::string_view text, const TraceLimits& limits = {}) {
  auto t = parse_trace(text, TraceFormat::csv, "t.csv", limits);
  return t ? std::string("accepted") : t.error().message;
}

std::string jsonl_error(std::string_view text, const TraceLimits& limits = {}) {
  auto t = parse_trace(text, TraceFormat::jsonl, "t.jsonl", limits);
  return t ? std::string("accepted") : t.error().message;
}

TEST(SensorTrace, ReadsCsv) {
  auto t = parse_trace(csv("0,temperature,21.5\n# note\n1000000000,temperature,-3.125\r\n2000000000,temperature,125"),
                       TraceFormat::csv, "t.csv");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->sensor.name(), "thermal0");
  EXPECT_EQ(t->sensor.kind(), SensorKind::thermal);
  EXPECT_EQ(t->records, (std::vector<TraceRecord>{{0, 0, 21'500}, {1'000'000'000, 0, -3'125}, {2'000'000'000, 0, 125'000}}));
}

TEST(SensorTrace, ReadsJsonLines) {
  auto t = parse_trace(jsonl(R"({"timestamp_ns":5,"channel":"presence","value":1}
{ "value" : 3.25 , "channel" : "range", "timestamp_ns" : 5 }
{"timestamp_ns":7,"channel":"velocity","value":-0.5}
)"),
                       TraceFormat::jsonl, "t.jsonl");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->sensor.kind(), SensorKind::mmwave);
  EXPECT_EQ(t->records, (std::vector<TraceRecord>{{5, 0, 1'000}, {5, 1, 3'250}, {7, 2, -500}}));
}

TEST(SensorTrace, BothFormatsRoundTrip) {
  auto poe = parse_trace("tilehv-sensor-trace,1,poe1,poe,ports=2\ntimestamp_ns,channel,value\n"
                         "0,port0,12.95\n0,port1,0.001\n30000000000,port1,51\n",
                         TraceFormat::csv, "poe.csv");
  ASSERT_TRUE(poe) << poe.error().message;
  for (const TraceFormat format : {TraceFormat::csv, TraceFormat::jsonl}) {
    auto again = parse_trace(format_trace(*poe, format), format, "again");
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(again->records, poe->records);
    EXPECT_TRUE(again->sensor.same_identity(poe->sensor));
    EXPECT_EQ(trace_digest(*again), trace_digest(*poe));
  }
}

TEST(SensorTrace, LoadsFilesByExtension) {
  const auto dir = std::filesystem::temp_directory_path() / ("tilehv-trace-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "a.csv") << csv("0,temperature,1\n");
  std::ofstream(dir / "a.jsonl") << jsonl(R"({"timestamp_ns":0,"channel":"range","value":2})");
  std::ofstream(dir / "a.txt") << "x";
  EXPECT_TRUE(load_trace(dir / "a.csv"));
  EXPECT_TRUE(load_trace(dir / "a.jsonl"));
  EXPECT_EQ(load_trace(dir / "a.txt").error().kind, ErrorKind::invalid_argument);
  EXPECT_EQ(load_trace(dir / "missing.csv").error().kind, ErrorKind::not_found);
  EXPECT_EQ(load_trace(dir / "a.csv", TraceLimits{1024, 10, 16}).error().message,
            (dir / "a.csv").string() + ": larger than 16 bytes");
  std::filesystem::remove_all(dir);
}

struct Case {
  const char* what;
  std::string text;
  std::string message;
};

TEST(SensorTrace, MalformedCsvNamesWhereAndWhat) {
  const Case cases[] = {
      {"empty file", "", "t.csv:1:1: expected the header line, found an empty file"},
      {"wrong magic", "sensor-trace,1,a,thermal\n",
       "t.csv:1:1: expected the header \"tilehv-sensor-trace,1,<name>,<kind>\", found \"sensor-trace,1,a,thermal\""},
      {"future version", "tilehv-sensor-trace,2,a,thermal\n", "t.csv:1:21: expected trace version 1, found \"2\""},
      {"unknown kind", "tilehv-sensor-trace,1,a,lidar\n",
       "t.csv:1:25: expected a sensor kind (thermal, piezo, mmwave, awg, poe), found \"lidar\""},
      {"bad sensor name", "tilehv-sensor-trace,1,Thermal 0,thermal\n",
       "t.csv:1:23: expected a sensor name [a-z][a-z0-9_-]{0,31}, found \"Thermal 0\""},
      {"poe without ports", "tilehv-sensor-trace,1,p,poe\n", "t.csv:1:28: expected ports=1..16 for kind poe"},
      {"ports on thermal", "tilehv-sensor-trace,1,a,thermal,ports=2\n", "t.csv:1:33: ports is only allowed for kind poe"},
      {"missing column line", "tilehv-sensor-trace,1,a,thermal\n0,temperature,1\n",
       "t.csv:2:1: expected the column line \"timestamp_ns,channel,value\", found \"0,temperature,1\""},
      {"no records", csv(""), "t.csv:2:1: expected at least one record"},
      {"too few fields", csv("0,temperature\n"),
       "t.csv:3:14: expected a record \"timestamp_ns,channel,value\" (3 fields), found 2 fields"},
      {"too many fields", csv("0,temperature,1,2\n"),
       "t.csv:3:17: expected a record \"timestamp_ns,channel,value\" (3 fields), found 4 fields"},
      {"negative timestamp", csv("-5,temperature,1\n"),
       "t.csv:3:1: expected a timestamp in ns (an unsigned integer), found \"-5\""},
      {"timestamp overflow", csv("18446744073709551616,temperature,1\n"),
       "t.csv:3:1: expected a timestamp in ns (an unsigned integer), found \"18446744073709551616\""},
      {"unknown channel", csv("0,humidity,1\n"),
       "t.csv:3:3: expected a channel of thermal0 (temperature), found \"humidity\""},
      {"too precise", csv("0,temperature,21.0001\n"),
       "t.csv:3:15: expected a decimal value with at most 3 fraction digits, found \"21.0001\""},
      {"exponent", csv("0,temperature,1e3\n"),
       "t.csv:3:15: expected a decimal value with at most 3 fraction digits, found \"1e3\""},
      {"out of range", csv("0,temperature,125.001\n"),
       "t.csv:3:15: value 125.001 is outside temperature's range -40.000..125.000 degC"},
      {"time goes back", csv("10,temperature,1\n9,temperature,1\n"),
       "t.csv:4:1: timestamp 9 is before the previous record's 10; timestamps must not decrease"},
      {"duplicate sample", csv("10,temperature,1\n10,temperature,2\n"),
       "t.csv:4:1: a second record of channel temperature at timestamp 10"},
      {"blank line", csv("0,temperature,1\n\n1,temperature,1\n"),
       "t.csv:4:1: expected a record \"timestamp_ns,channel,value\", found an empty line"},
      {"control bytes are escaped", csv("0,temp\x01\x1b[2J,1\n"),
       "t.csv:3:3: expected a channel of thermal0 (temperature), found \"temp\\x01\\x1b[2J\""},
  };
  for (const Case& c : cases) EXPECT_EQ(csv_error(c.text), c.message) << c.what;
}

TEST(SensorTrace, MalformedJsonLinesNamesWhereAndWhat) {
  const Case cases[] = {
      {"not an object", "[1,2]\n", "t.jsonl:1:1: expected '{' to start a JSON object"},
      {"wrong format", R"({"format":"csv","version":1,"name":"a","kind":"thermal"})",
       "t.jsonl:1:11: expected format \"tilehv-sensor-trace\", found \"csv\""},
      {"version as string", R"({"format":"tilehv-sensor-trace","version":"1","name":"a","kind":"thermal"})",
       "t.jsonl:1:43: expected \"version\" to be a number"},
      {"missing kind", R"({"format":"tilehv-sensor-trace","version":1,"name":"a"})",
       "t.jsonl:1:56: missing key \"kind\""},
      {"unknown header key", R"({"format":"tilehv-sensor-trace","version":1,"name":"a","kind":"thermal","x":1})",
       "t.jsonl:1:73: unknown key \"x\"; expected format, version, name, kind, ports"},
      {"duplicate key", jsonl(R"({"timestamp_ns":1,"timestamp_ns":2,"channel":"range","value":1})"),
       "t.jsonl:2:19: duplicate key \"timestamp_ns\""},
      {"nested", jsonl(R"({"timestamp_ns":1,"channel":"range","value":{"v":1}})"),
       "t.jsonl:2:45: expected a string or a number (objects, arrays, true, false and null are not used)"},
      {"exponent", jsonl(R"({"timestamp_ns":1,"channel":"range","value":1e3})"),
       "t.jsonl:2:46: exponent notation is not supported; write plain decimals"},
      {"escape", jsonl(R"({"timestamp_ns":1,"channel":"ra\nge","value":1})"),
       "t.jsonl:2:32: escape sequences are not supported in trace strings"},
      {"unterminated", jsonl(R"({"timestamp_ns":1,"channel":"range","value":1)"),
       "t.jsonl:2:46: expected ',' or '}'"},
      {"trailing garbage", jsonl(R"({"timestamp_ns":1,"channel":"range","value":1} x)"),
       "t.jsonl:2:48: expected the end of the line after the object"},
      {"missing value", jsonl(R"({"timestamp_ns":1,"channel":"range"})"), "t.jsonl:2:37: missing key \"value\""},
      {"fractional timestamp", jsonl(R"({"timestamp_ns":1.5,"channel":"range","value":1})"),
       "t.jsonl:2:17: expected a timestamp in ns (an unsigned integer), found \"1.5\""},
      {"out of range", jsonl(R"({"timestamp_ns":1,"channel":"velocity","value":-10.001})"),
       "t.jsonl:2:48: value -10.001 is outside velocity's range -10.000..10.000 m/s"},
      {"time goes back", jsonl("{\"timestamp_ns\":2,\"channel\":\"range\",\"value\":1}\n"
                               "{\"timestamp_ns\":1,\"channel\":\"range\",\"value\":1}\n"),
       "t.jsonl:3:1: timestamp 1 is before the previous record's 2; timestamps must not decrease"},
  };
  for (const Case& c : cases) EXPECT_EQ(jsonl_error(c.text), c.message) << c.what;
}

TEST(SensorTrace, BoundsLineLengthAndRecordCount) {
  EXPECT_EQ(csv_error(csv("0,temperature," + std::string(2'000, '1') + "\n")), "t.csv:3:1025: line is longer than 1024 bytes");
  EXPECT_EQ(csv_error(csv("0,temperature,1\n1,temperature,1\n2,temperature,1\n"), TraceLimits{1024, 2, 1 << 20}),
            "t.csv:5:1: more than 2 records");
  EXPECT_EQ(jsonl_error(jsonl(std::string(100, ' ')), TraceLimits{64, 10, 1 << 20}),
            "t.jsonl:1:65: line is longer than 64 bytes");
}

}  // namespace
}  // namespace tilehv::vdevices::sensors
