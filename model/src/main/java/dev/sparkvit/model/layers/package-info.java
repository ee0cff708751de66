/**
 * sparkvit's own DLlib layers for the Vision Transformer, one concept per class (after timm's {@code timm/layers}).
 * They exist because DLlib's LayerNorm, attention and activation set are defective or missing for a ViT
 * (docs/ENGINE.md); each follows the in-place gradient rules of {@link dev.sparkvit.engine.FloatModule}.
 */
package dev.sparkvit.model.layers;
