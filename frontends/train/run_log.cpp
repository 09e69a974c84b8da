#include "frontends/train/run_log.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include <nlohmann/json.hpp>

namespace kiln::train {
namespace {

std::string format(const char* pattern, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, pattern, v);
  return buffer;
}

std::string cell(const std::optional<double>& v) { return v ? format("%.6f", *v) : ""; }

std::string escape_xml(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '<') out += "&lt;";
    else if (c == '>') out += "&gt;";
    else if (c == '&') out += "&amp;";
    else if (c == '"') out += "&quot;";
    else out += c;
  }
  return out;
}

struct Series {
  std::string label, colour;
  std::function<std::optional<double>(const EpochRecord&)> value;
};

// One chart: axes with a few ticks and a polyline per series that has values.
std::string panel(const std::vector<EpochRecord>& records, const std::vector<Series>& series, double left,
                  double top, double width, double height, const std::string& y_label, bool unit_range) {
  double lo = unit_range ? 0.0 : INFINITY, hi = unit_range ? 1.0 : -INFINITY;
  if (!unit_range)
    for (const Series& s : series)
      for (const EpochRecord& r : records)
        if (auto v = s.value(r); v && std::isfinite(*v)) lo = std::min(lo, *v), hi = std::max(hi, *v);
  if (!(lo <= hi)) lo = 0, hi = 1;
  if (!unit_range) lo = std::min(lo, 0.0);
  if (hi - lo < 1e-12) hi = lo + 1;
  const double first = records.empty() ? 0.0 : static_cast<double>(records.front().epoch);
  const double last = records.empty() ? 1.0 : static_cast<double>(records.back().epoch);
  const double span = std::max(last - first, 1.0);
  auto px = [&](double epoch) { return left + (epoch - first) / span * width; };
  auto py = [&](double v) { return top + height - (v - lo) / (hi - lo) * height; };

  std::string svg;
  svg += "<rect x=\"" + format("%.1f", left) + "\" y=\"" + format("%.1f", top) + "\" width=\"" +
         format("%.1f", width) + "\" height=\"" + format("%.1f", height) + "\" fill=\"none\" stroke=\"#888\"/>\n";
  for (int t = 0; t <= 4; ++t) {
    const double v = lo + (hi - lo) * t / 4.0;
    svg += "<line x1=\"" + format("%.1f", left) + "\" x2=\"" + format("%.1f", left + width) + "\" y1=\"" +
           format("%.1f", py(v)) + "\" y2=\"" + format("%.1f", py(v)) + "\" stroke=\"#eee\"/>\n";
    svg += "<text x=\"" + format("%.1f", left - 6) + "\" y=\"" + format("%.1f", py(v) + 4) +
           "\" text-anchor=\"end\">" + format("%.3g", v) + "</text>\n";
    const double e = first + span * t / 4.0;
    svg += "<text x=\"" + format("%.1f", px(e)) + "\" y=\"" + format("%.1f", top + height + 16) +
           "\" text-anchor=\"middle\">" + format("%.0f", e) + "</text>\n";
  }
  svg += "<text x=\"" + format("%.1f", left + width / 2) + "\" y=\"" + format("%.1f", top + height + 34) +
         "\" text-anchor=\"middle\">epoch</text>\n";
  svg += "<text x=\"" + format("%.1f", left) + "\" y=\"" + format("%.1f", top - 8) + "\">" + escape_xml(y_label) +
         "</text>\n";
  double legend_y = top + 16;
  for (const Series& s : series) {
    std::string points;
    for (const EpochRecord& r : records)
      if (auto v = s.value(r); v && std::isfinite(*v))
        points += format("%.2f", px(static_cast<double>(r.epoch))) + "," + format("%.2f", py(*v)) + " ";
    if (points.empty()) continue;
    svg += "<polyline fill=\"none\" stroke=\"" + s.colour + "\" stroke-width=\"1.5\" points=\"" + points + "\"/>\n";
    svg += "<text x=\"" + format("%.1f", left + width - 8) + "\" y=\"" + format("%.1f", legend_y) + "\" fill=\"" +
           s.colour + "\" text-anchor=\"end\">" + escape_xml(s.label) + "</text>\n";
    legend_y += 16;
  }
  return svg;
}

}  // namespace

std::string run_log_csv(const std::vector<EpochRecord>& records) {
  std::string csv = "epoch,loss,train_accuracy,val_accuracy,test_accuracy,seconds\n";
  for (const EpochRecord& r : records)
    csv += std::to_string(r.epoch) + "," + format("%.8g", r.loss) + "," + cell(r.train_accuracy) + "," +
           cell(r.val_accuracy) + "," + cell(r.test_accuracy) + "," + format("%.3f", r.seconds) + "\n";
  return csv;
}

std::string curves_svg(const std::vector<EpochRecord>& records, const std::string& title) {
  const double w = 900, h = 360;
  std::string svg = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" +
                    format("%.0f", w) + "\" height=\"" + format("%.0f", h) + "\" viewBox=\"0 0 " + format("%.0f", w) +
                    " " + format("%.0f", h) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  svg += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  svg += "<text x=\"" + format("%.0f", w / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" +
         escape_xml(title) + "</text>\n";
  svg += panel(records, {{"training loss", "#d62728", [](const EpochRecord& r) { return std::optional(r.loss); }}}, 70,
               60, 340, 240, "mean training loss", false);
  svg += panel(records,
               {{"train", "#1f77b4", [](const EpochRecord& r) { return r.train_accuracy; }},
                {"validation", "#ff7f0e", [](const EpochRecord& r) { return r.val_accuracy; }},
                {"test", "#2ca02c", [](const EpochRecord& r) { return r.test_accuracy; }}},
               520, 60, 340, 240, "accuracy", true);
  return svg + "</svg>\n";
}

std::string summary_json(const RunSummary& s) {
  nlohmann::ordered_json j;
  j["model"] = s.model;
  j["data"] = s.data;
  j["optimizer"] = s.optimizer;
  j["status"] = s.status;
  j["epochs"] = s.epochs;
  j["total_epochs"] = s.total_epochs;
  j["steps"] = s.steps;
  j["ranks"] = s.ranks;
  j["batch_per_rank"] = s.batch_per_rank;
  j["seconds"] = s.seconds;
  j["eval_seconds"] = s.eval_seconds;
  j["steps_per_second"] = s.seconds > 0 ? static_cast<double>(s.steps) / s.seconds : 0.0;
  auto put = [&](const char* key, const std::optional<double>& v) {
    j[key] = v && std::isfinite(*v) ? nlohmann::ordered_json(*v) : nlohmann::ordered_json(nullptr);
  };
  put("final_loss", s.final_loss);
  put("train_accuracy", s.train_accuracy);
  put("val_accuracy", s.val_accuracy);
  put("test_accuracy", s.test_accuracy);
  put("train_loss", s.train_loss);
  put("val_loss", s.val_loss);
  put("test_loss", s.test_loss);
  return j.dump(2) + "\n";
}

}  // namespace kiln::train
