/** Decoding, validating and resizing images into 8-bit RGB, in plain Java (no Spark). */
package dev.sparkvit.data.image;
