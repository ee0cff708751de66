/** Reading and writing model weights: safetensors with timm's names, and DLlib's own weight files. */
package dev.sparkvit.model.io;
