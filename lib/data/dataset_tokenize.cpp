// data/dataset_tokenize.cpp: records to tokens with their loss masks (dataset_records.hpp).
#include "data/dataset_records.hpp"

namespace memtx::data {

std::string record_text(const Record& record) {
  if (record.chat) return render_chatml(record.messages);
  if (!record.has_response || record.response.empty()) return record.text;
  if (record.text.empty()) return record.response;
  return record.text + "\n\n" + record.response;
}

Document tokenize_record(const PieceEncoder& encoder, const Record& record, bool instruction_finetuning) {
  if (record.chat) return tokenize_chat(encoder, record.messages, instruction_finetuning);
  Document doc;
  doc.append(encoder.prefix(), !instruction_finetuning);
  if (!record.has_response) {
    doc.append(encoder.piece(record.text), true);
    return doc;
  }
  const std::string prompt = record.text.empty() || record.response.empty() ? record.text : record.text + "\n\n";
  doc.append(encoder.piece(prompt), !instruction_finetuning);
  doc.append(encoder.piece(record.response), true);
  return doc;
}

}  // namespace memtx::data
