/**
 * The Vision Transformer (Dosovitskiy et al. 2021) with LayerScale (Touvron et al. 2021), assembled from
 * {@link dev.sparkvit.model.layers}: typed config, named presets, the pre-norm block, heads, parameter groups,
 * weight initialisation, summary and LayerScale monitoring.
 */
package dev.sparkvit.model.vit;
