// The model zoo: real models at their published shapes, built op by op. Layer names follow the
// reference implementations (torchvision, Hugging Face, Ultralytics) so a layer can be found there.
#include "edgeroof/dnn/zoo.hpp"
#include "edgeroof/dnn/checked.hpp"
#include "edgeroof/dnn/ops.hpp"

#include <algorithm>
#include <string>

namespace edgeroof::dnn {
namespace {

// The sequence length the options ask for, or the model's default; `limit` is the positions the
// model was trained for.
std::int64_t sequence(const Builder& b, std::int64_t fallback, std::int64_t limit, const std::string& model) {
  const std::int64_t len = b.options().seq_len > 0 ? b.options().seq_len : fallback;
  if (len > limit) {
    throw ModelError(model + " has " + std::to_string(limit) + " positions; a sequence of " + std::to_string(len) +
                     " does not fit");
  }
  return len;
}

// ---- ResNet-50 (torchvision v1.5: stride on the 3x3 conv), 224x224, 1000 classes -------------

Tensor conv_bn(Builder& b, const std::string& conv, const std::string& bn, const Tensor& x, std::int64_t out,
               std::int64_t k, std::int64_t s, std::int64_t groups = 1) {
  Conv2dParams p;
  p.out_channels = out;
  p.kernel = {k, k};
  p.stride = {s, s};
  p.padding = {k / 2, k / 2};
  p.groups = groups;
  return b.batchnorm(bn, b.conv2d(conv, x, p));
}

Tensor bottleneck(Builder& b, const std::string& n, const Tensor& x, std::int64_t width, std::int64_t stride) {
  const std::int64_t out = width * 4;
  Tensor y = b.activation(n + ".relu1", "relu", conv_bn(b, n + ".conv1", n + ".bn1", x, width, 1, 1));
  y = b.activation(n + ".relu2", "relu", conv_bn(b, n + ".conv2", n + ".bn2", y, width, 3, stride));
  y = conv_bn(b, n + ".conv3", n + ".bn3", y, out, 1, 1);
  Tensor skip = x;
  if (stride != 1 || x.shape[1] != out) {
    skip = conv_bn(b, n + ".downsample.0", n + ".downsample.1", x, out, 1, stride);
  }
  return b.activation(n + ".relu3", "relu", b.add(n + ".add", y, skip));
}

void resnet50(Builder& b) {
  Tensor x = b.input({b.options().batch, 3, 224, 224});
  x = b.activation("relu", "relu", conv_bn(b, "conv1", "bn1", x, 64, 7, 2));
  x = b.maxpool("maxpool", x, {{3, 3}, {2, 2}, {1, 1}});
  const std::int64_t blocks[] = {3, 4, 6, 3};
  for (int stage = 0; stage < 4; ++stage) {
    const std::int64_t width = 64 << stage;
    for (std::int64_t i = 0; i < blocks[stage]; ++i) {
      const std::string n = "layer" + std::to_string(stage + 1) + "." + std::to_string(i);
      x = bottleneck(b, n, x, width, i == 0 && stage > 0 ? 2 : 1);
    }
  }
  x = b.global_avgpool("avgpool", x);
  b.linear("fc", b.view(x, {x.shape[0], x.shape[1]}), 1000, true);
}

// ---- MobileNetV3-Large (torchvision), 224x224, 1000 classes ----------------------------------

// torchvision's _make_divisible: round to a multiple of 8, never more than 10% down.
std::int64_t make_divisible(std::int64_t v) {
  std::int64_t r = std::max<std::int64_t>(8, (v + 4) / 8 * 8);
  if (10 * r < 9 * v) r += 8;
  return r;
}

Tensor conv_bn_act(Builder& b, const std::string& n, const Tensor& x, std::int64_t out, std::int64_t k, std::int64_t s,
                   std::int64_t groups, const std::string& act) {
  const Tensor y = conv_bn(b, n + ".0", n + ".1", x, out, k, s, groups);
  return act.empty() ? y : b.activation(n + ".2", act, y);
}

struct MobileNetBlock {
  std::int64_t kernel, expanded, out;
  bool se;
  const char* act;
  std::int64_t stride;
};

void mobilenet_v3_large(Builder& b) {
  static const MobileNetBlock blocks[] = {
      {3, 16, 16, false, "relu", 1},       {3, 64, 24, false, "relu", 2},       {3, 72, 24, false, "relu", 1},
      {5, 72, 40, true, "relu", 2},        {5, 120, 40, true, "relu", 1},       {5, 120, 40, true, "relu", 1},
      {3, 240, 80, false, "hardswish", 2}, {3, 200, 80, false, "hardswish", 1}, {3, 184, 80, false, "hardswish", 1},
      {3, 184, 80, false, "hardswish", 1}, {3, 480, 112, true, "hardswish", 1}, {3, 672, 112, true, "hardswish", 1},
      {5, 672, 160, true, "hardswish", 2}, {5, 960, 160, true, "hardswish", 1}, {5, 960, 160, true, "hardswish", 1},
  };
  Tensor x = b.input({b.options().batch, 3, 224, 224});
  x = conv_bn_act(b, "features.0", x, 16, 3, 2, 1, "hardswish");
  int index = 1;
  for (const auto& blk : blocks) {
    const std::string n = "features." + std::to_string(index++) + ".block.";
    const std::int64_t in = x.shape[1];
    int j = 0;
    Tensor y = x;
    if (blk.expanded != in) y = conv_bn_act(b, n + std::to_string(j++), y, blk.expanded, 1, 1, 1, blk.act);
    y = conv_bn_act(b, n + std::to_string(j++), y, blk.expanded, blk.kernel, blk.stride, blk.expanded, blk.act);
    if (blk.se) {
      // Squeeze-and-excitation: pool, 1x1 conv down, relu, 1x1 conv up, hardsigmoid, scale.
      const std::string se = n + std::to_string(j++);
      const std::int64_t squeeze = make_divisible(blk.expanded / 4);
      Conv2dParams fc;
      fc.bias = true;
      fc.out_channels = squeeze;
      Tensor s = b.global_avgpool(se + ".avgpool", y);
      s = b.activation(se + ".relu", "relu", b.conv2d(se + ".fc1", s, fc));
      fc.out_channels = blk.expanded;
      s = b.activation(se + ".scale_activation", "hardsigmoid", b.conv2d(se + ".fc2", s, fc));
      y = b.mul(se + ".scale", y, s);
    }
    y = conv_bn_act(b, n + std::to_string(j++), y, blk.out, 1, 1, 1, "");
    if (blk.stride == 1 && in == blk.out) y = b.add(n.substr(0, n.size() - 7) + ".add", y, x);
    x = y;
  }
  x = conv_bn_act(b, "features.16", x, 960, 1, 1, 1, "hardswish");
  x = b.global_avgpool("avgpool", x);
  x = b.linear("classifier.0", b.view(x, {x.shape[0], x.shape[1]}), 1280, true);
  x = b.activation("classifier.1", "hardswish", x);
  b.linear("classifier.3", x, 1000, true);
}

// ---- YOLOv8n (Ultralytics, scales n: depth 0.33, width 0.25), 640x640, 80 classes -------------

// Conv = conv2d (no bias) + batchnorm + SiLU.
Tensor yolo_conv(Builder& b, const std::string& n, const Tensor& x, std::int64_t out, std::int64_t k, std::int64_t s) {
  return b.activation(n + ".act", "silu", conv_bn(b, n + ".conv", n + ".bn", x, out, k, s));
}

// C2f: 1x1 conv to 2c, split in two halves, n bottlenecks on the second, concat all, 1x1 conv.
Tensor c2f(Builder& b, const std::string& n, const Tensor& x, std::int64_t out, int blocks, bool shortcut) {
  const std::int64_t c = out / 2;
  const Tensor y = yolo_conv(b, n + ".cv1", x, 2 * c, 1, 1);
  const Shape half{y.shape[0], c, y.shape[2], y.shape[3]};
  std::vector<Tensor> parts{{half, true}, {half, true}};  // the two halves of the split: views
  for (int i = 0; i < blocks; ++i) {
    const std::string m = n + ".m." + std::to_string(i);
    Tensor z = yolo_conv(b, m + ".cv1", parts.back(), c, 3, 1);
    z = yolo_conv(b, m + ".cv2", z, c, 3, 1);
    if (shortcut) z = b.add(m + ".add", z, parts.back());
    parts.push_back(z);
  }
  return yolo_conv(b, n + ".cv2", b.concat(n + ".cat", parts, 1), out, 1, 1);
}

Tensor sppf(Builder& b, const std::string& n, const Tensor& x, std::int64_t out) {
  std::vector<Tensor> parts{yolo_conv(b, n + ".cv1", x, x.shape[1] / 2, 1, 1)};
  for (int i = 0; i < 3; ++i) {
    parts.push_back(b.maxpool(n + ".m." + std::to_string(i), parts.back(), {{5, 5}, {1, 1}, {2, 2}}));
  }
  return yolo_conv(b, n + ".cv2", b.concat(n + ".cat", parts, 1), out, 1, 1);
}

void yolov8n(Builder& b) {
  Tensor x = b.input({b.options().batch, 3, 640, 640});
  x = yolo_conv(b, "model.0", x, 16, 3, 2);
  x = yolo_conv(b, "model.1", x, 32, 3, 2);
  x = c2f(b, "model.2", x, 32, 1, true);
  x = yolo_conv(b, "model.3", x, 64, 3, 2);
  const Tensor p3 = c2f(b, "model.4", x, 64, 2, true);
  x = yolo_conv(b, "model.5", p3, 128, 3, 2);
  const Tensor p4 = c2f(b, "model.6", x, 128, 2, true);
  x = yolo_conv(b, "model.7", p4, 256, 3, 2);
  x = c2f(b, "model.8", x, 256, 1, true);
  const Tensor p5 = sppf(b, "model.9", x, 256);
  x = b.concat("model.11", {b.upsample("model.10", p5, 2), p4}, 1);
  const Tensor h12 = c2f(b, "model.12", x, 128, 1, false);
  x = b.concat("model.14", {b.upsample("model.13", h12, 2), p3}, 1);
  const Tensor out3 = c2f(b, "model.15", x, 64, 1, false);
  x = b.concat("model.17", {yolo_conv(b, "model.16", out3, 64, 3, 2), h12}, 1);
  const Tensor out4 = c2f(b, "model.18", x, 128, 1, false);
  x = b.concat("model.20", {yolo_conv(b, "model.19", out4, 128, 3, 2), p5}, 1);
  const Tensor out5 = c2f(b, "model.21", x, 256, 1, false);
  // Detect head: per level a box branch (cv2: 64 channels, 4*16 DFL bins) and a class branch
  // (cv3: 80 channels, 80 classes). Box decoding (DFL) and NMS are post-processing, not counted.
  const Tensor levels[] = {out3, out4, out5};
  for (int i = 0; i < 3; ++i) {
    const std::string box = "model.22.cv2." + std::to_string(i), cls = "model.22.cv3." + std::to_string(i);
    Conv2dParams head;
    head.bias = true;
    head.out_channels = 64;
    b.conv2d(box + ".2", yolo_conv(b, box + ".1", yolo_conv(b, box + ".0", levels[i], 64, 3, 1), 64, 3, 1), head);
    head.out_channels = 80;
    b.conv2d(cls + ".2", yolo_conv(b, cls + ".1", yolo_conv(b, cls + ".0", levels[i], 80, 3, 1), 80, 3, 1), head);
  }
}

// ---- Transformers: BERT, ViT, GPT-2 ------------------------------------------------------------

struct TransformerShape {
  std::int64_t layers, hidden, heads, ffn;
};

// Multi-head self-attention on x [N, L, D]: q, k, v projections (separate or one fused
// projection), attention over heads, output projection. Returns [N, L, D].
Tensor self_attention(Builder& b, const std::string& qkv_name, const std::string& attn_name,
                      const std::string& out_name, const Tensor& x, std::int64_t heads, bool fused_qkv, bool causal) {
  const auto n = x.shape[0], len = x.shape[1], dim = x.shape[2];
  const Shape head_shape{n, heads, len, dim / heads};
  Tensor q, k, v;
  if (fused_qkv) {
    const Tensor qkv = b.linear(qkv_name, x, 3 * dim, true);
    q = k = v = Tensor{head_shape, qkv.needs_grad};  // three strided views of the projection
  } else {
    q = b.view(b.linear(qkv_name + "query", x, dim, true), head_shape);
    k = b.view(b.linear(qkv_name + "key", x, dim, true), head_shape);
    v = b.view(b.linear(qkv_name + "value", x, dim, true), head_shape);
  }
  const Tensor ctx = b.attention(attn_name, q, k, v, causal);
  return b.linear(out_name, b.view(ctx, {n, len, dim}), dim, true);
}

void bert(Builder& b, const TransformerShape& t) {
  const std::int64_t n = b.options().batch, len = sequence(b, 128, 512, "BERT"), vocab = 30522;
  const Tensor ids = b.input({n, len});
  Tensor x = b.embedding("embeddings.word_embeddings", ids, vocab, t.hidden);
  x = b.add("embeddings.add_token_type", x,
            b.embedding("embeddings.token_type_embeddings", b.input({n, len}), 2, t.hidden));
  x = b.add("embeddings.add_position", x,
            b.embedding("embeddings.position_embeddings", b.input({1, len}), 512, t.hidden));
  x = b.layernorm("embeddings.LayerNorm", x);
  for (std::int64_t i = 0; i < t.layers; ++i) {
    const std::string l = "encoder.layer." + std::to_string(i);
    Tensor a = self_attention(b, l + ".attention.self.", l + ".attention.self.attn", l + ".attention.output.dense", x,
                              t.heads, false, false);
    x = b.layernorm(l + ".attention.output.LayerNorm", b.add(l + ".attention.output.add", a, x));
    Tensor f = b.activation(l + ".intermediate.gelu", "gelu", b.linear(l + ".intermediate.dense", x, t.ffn, true));
    f = b.linear(l + ".output.dense", f, t.hidden, true);
    x = b.layernorm(l + ".output.LayerNorm", b.add(l + ".output.add", f, x));
  }
}

void bert_base(Builder& b) { bert(b, {12, 768, 12, 3072}); }
void bert_large(Builder& b) { bert(b, {24, 1024, 16, 4096}); }

void vit_b_16(Builder& b) {
  const std::int64_t n = b.options().batch, dim = 768, tokens = 197;
  Tensor x = b.input({n, 3, 224, 224});
  Conv2dParams patch;
  patch.out_channels = dim;
  patch.kernel = patch.stride = {16, 16};
  patch.bias = true;
  x = b.conv2d("conv_proj", x, patch);
  x = b.view(x, {n, dim, 196});  // flattened and permuted to [N, 196, D]: views
  x = Tensor{{n, 196, dim}, x.needs_grad};
  const Tensor cls = b.parameter("class_token", {1, 1, dim});
  x = b.concat("class_token.cat", {Tensor{{n, 1, dim}, cls.needs_grad}, x}, 1);  // the token broadcast to N
  x = b.add("encoder.pos_embedding.add", x, b.parameter("encoder.pos_embedding", {1, tokens, dim}));
  for (int i = 0; i < 12; ++i) {
    const std::string l = "encoder.layers.encoder_layer_" + std::to_string(i);
    Tensor a = b.layernorm(l + ".ln_1", x);
    a = self_attention(b, l + ".self_attention.in_proj", l + ".self_attention.attn", l + ".self_attention.out_proj", a,
                       12, true, false);
    x = b.add(l + ".add_1", a, x);
    Tensor f = b.layernorm(l + ".ln_2", x);
    f = b.activation(l + ".mlp.1", "gelu", b.linear(l + ".mlp.0", f, 3072, true));
    x = b.add(l + ".add_2", b.linear(l + ".mlp.3", f, dim, true), x);
  }
  x = b.layernorm("encoder.ln", x);
  b.linear("heads.head", Tensor{{n, dim}, x.needs_grad}, 1000, true);  // on the class token only
}

// GPT-2 small (Hugging Face names): 12 layers, 768 wide, 12 heads, vocabulary 50257. `past` tokens
// are in the KV cache, `len` new tokens are processed; the logits of the last token only are
// computed (what generation needs), with lm_head sharing the token embedding's weight.
void gpt2(Builder& b, std::int64_t past, std::int64_t len) {
  const std::int64_t n = b.options().batch, dim = 768, heads = 12, vocab = 50257;
  Tensor x = b.embedding("transformer.wte", b.input({n, len}), vocab, dim);
  x = b.add("transformer.wpe.add", x, b.embedding("transformer.wpe", b.input({1, len}), 1024, dim));
  for (int i = 0; i < 12; ++i) {
    const std::string l = "transformer.h." + std::to_string(i);
    const Tensor a = b.layernorm(l + ".ln_1", x);
    const Tensor qkv = b.linear(l + ".attn.c_attn", a, 3 * dim, true);
    // The new keys and values are appended to the cache (written by c_attn); attention reads
    // the whole cache.
    const Tensor q{{n, heads, len, dim / heads}, qkv.needs_grad};
    const Tensor kv{{n, heads, past + len, dim / heads}, qkv.needs_grad};
    const Tensor ctx = b.attention(l + ".attn.attn", q, kv, kv, true);
    x = b.add(l + ".attn.add", b.linear(l + ".attn.c_proj", b.view(ctx, {n, len, dim}), dim, true), x);
    Tensor f = b.layernorm(l + ".ln_2", x);
    f = b.activation(l + ".mlp.act", "gelu", b.linear(l + ".mlp.c_fc", f, 4 * dim, true));
    x = b.add(l + ".mlp.add", b.linear(l + ".mlp.c_proj", f, dim, true), x);
  }
  x = b.layernorm("transformer.ln_f", x);
  b.linear("lm_head", Tensor{{n, 1, dim}, x.needs_grad}, vocab, false, true);
}

// Llama-2-7B (Hugging Face names): 32 layers, 4096 wide, 32 heads of 128, SwiGLU FFN of 11008,
// RMSNorm, rotary positions, vocabulary 32000, no biases, lm_head not tied. KV cache as GPT-2.
void llama2_7b(Builder& b, std::int64_t past, std::int64_t len) {
  const std::int64_t n = b.options().batch, dim = 4096, heads = 32, hd = 128, ffn = 11008, vocab = 32000;
  Tensor x = b.embedding("model.embed_tokens", b.input({n, len}), vocab, dim);
  for (int i = 0; i < 32; ++i) {
    const std::string l = "model.layers." + std::to_string(i);
    const Tensor a = b.rmsnorm(l + ".input_layernorm", x);
    const Shape new_heads{n, heads, len, hd};
    const Tensor q =
        b.rope(l + ".self_attn.rotary_q", b.view(b.linear(l + ".self_attn.q_proj", a, dim, false), new_heads));
    const Tensor k =
        b.rope(l + ".self_attn.rotary_k", b.view(b.linear(l + ".self_attn.k_proj", a, dim, false), new_heads));
    b.linear(l + ".self_attn.v_proj", a, dim, false);
    const Tensor kv{{n, heads, past + len, hd}, k.needs_grad};  // the cache with the new keys and values
    const Tensor ctx = b.attention(l + ".self_attn.attn", q, kv, kv, true);
    x = b.add(l + ".self_attn.add", b.linear(l + ".self_attn.o_proj", b.view(ctx, {n, len, dim}), dim, false), x);
    const Tensor m = b.rmsnorm(l + ".post_attention_layernorm", x);
    const Tensor gate = b.activation(l + ".mlp.act_fn", "silu", b.linear(l + ".mlp.gate_proj", m, ffn, false));
    const Tensor up = b.linear(l + ".mlp.up_proj", m, ffn, false);
    x = b.add(l + ".mlp.add", b.linear(l + ".mlp.down_proj", b.mul(l + ".mlp.mul", gate, up), dim, false), x);
  }
  x = b.rmsnorm("model.norm", x);
  b.linear("lm_head", Tensor{{n, 1, dim}, x.needs_grad}, vocab, false);
}

// Prefill: --seq is the prompt; decode: --seq is the tokens already in the cache.
void llama2_7b_prefill(Builder& b) { llama2_7b(b, 0, sequence(b, 512, 4096, "Llama-2")); }
void llama2_7b_decode(Builder& b) { llama2_7b(b, sequence(b, 512, 4095, "Llama-2"), 1); }

void gpt2_prefill(Builder& b) { gpt2(b, 0, sequence(b, 512, 1024, "GPT-2")); }
void gpt2_decode(Builder& b) { gpt2(b, sequence(b, 512, 1023, "GPT-2"), 1); }

// ---- 2-layer LSTM language model (Zaremba et al. 2014, "medium": PyTorch word_language_model) --

void lstm_lm(Builder& b) {
  const std::int64_t steps = sequence(b, 35, 1 << 20, "lstm"), width = 650, vocab = 10000;
  Tensor x = b.embedding("encoder", b.input({steps, b.options().batch}), vocab, width);
  x = b.lstm("rnn.0", x, width);
  x = b.lstm("rnn.1", x, width);
  b.linear("decoder", x, vocab, true);
}
}  // namespace

const std::vector<ZooModel>& zoo() {
  static const std::vector<ZooModel> models{
      {"resnet50", "ResNet-50 (torchvision), 3x224x224 images, 1000 classes", resnet50, false},
      {"mobilenet_v3_large", "MobileNetV3-Large (torchvision), 3x224x224 images, 1000 classes", mobilenet_v3_large,
       false},
      {"yolov8n", "YOLOv8n (Ultralytics), 3x640x640 images, 80 classes, raw head outputs (no DFL/NMS)", yolov8n, false},
      {"bert_base", "BERT-base encoder (Hugging Face), 128 tokens (--seq up to 512), no task head", bert_base, true},
      {"bert_large", "BERT-large encoder (Hugging Face), 128 tokens (--seq up to 512), no task head", bert_large, true},
      {"lstm", "2-layer LSTM language model (Zaremba medium): 35 steps (--seq), 650 units, vocabulary 10000", lstm_lm,
       true},
      {"vit_b_16", "ViT-B/16 (torchvision), 3x224x224 images, 1000 classes", vit_b_16, false},
      {"gpt2_prefill", "GPT-2 small decoder, prefill of a 512-token prompt (--seq), logits of the last token",
       gpt2_prefill, true},
      {"gpt2_decode", "GPT-2 small decoder, one new token with a 512-token KV cache (--seq)", gpt2_decode, true},
      {"llama2_7b_prefill", "Llama-2-7B decoder, prefill of a 512-token prompt (--seq), logits of the last token",
       llama2_7b_prefill, true},
      {"llama2_7b_decode", "Llama-2-7B decoder, one new token with a 512-token KV cache (--seq)", llama2_7b_decode,
       true},
  };
  return models;
}

std::vector<std::string> zoo_models() {
  std::vector<std::string> names;
  for (const auto& m : zoo()) names.push_back(m.name);
  return names;
}

Workload build_zoo_model(const std::string& name, const WorkloadOptions& options) {
  const auto& models = zoo();
  const auto it = std::find_if(models.begin(), models.end(), [&](const ZooModel& m) { return m.name == name; });
  if (it == models.end()) {
    std::string known;
    for (const auto& m : models) known += (known.empty() ? "" : ", ") + m.name;
    throw ModelError("unknown model '" + excerpt(name) + "' (zoo: " + known + "; or a .onnx file)");
  }
  if (options.seq_len != 0 && !it->has_sequence) {
    throw ModelError(name + " has no sequence length to set (--seq is for the transformers and the LSTM)");
  }
  if (options.seq_len < 0) throw ModelError("the sequence length must be positive");
  Builder b(name, options);
  it->build(b);
  return b.finish();
}

Workload build_workload(const std::string& model_or_path, const WorkloadOptions& options) {
  const std::string ext = ".onnx";
  if (model_or_path.size() > ext.size() &&
      model_or_path.compare(model_or_path.size() - ext.size(), ext.size(), ext) == 0) {
    return import_onnx(model_or_path, options);
  }
  return build_zoo_model(model_or_path, options);
}

}  // namespace edgeroof::dnn
