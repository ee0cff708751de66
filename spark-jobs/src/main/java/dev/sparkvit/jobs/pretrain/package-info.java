/**
 * The {@code pretrain} job: SimCLR on an ingested dataset. {@link PretrainConfig} reads conf/pretrain.yaml into a
 * validated {@link PretrainSettings}; {@link PretrainJob} builds the ViT with SimCLR's projection head, feeds pairs
 * of views from {@link dev.sparkvit.data.pairs.PairGenerator} to {@link dev.sparkvit.engine.DistributedTraining}
 * with NT-Xent and {@link PretrainOptimizers}, checkpoints through {@link dev.sparkvit.jobs.train.RunState}, and ends
 * with the EMA weights as safetensors and a linear probe ({@link dev.sparkvit.jobs.probe}); {@link PretrainMonitor}
 * and {@link CollapseMonitor} report; with {@code training.engine: barrier} it trains on
 * {@link dev.sparkvit.jobs.train.BarrierTraining} as {@link SimClrMethod} (global NT-Xent). Start reading at {@code PretrainJob#execute}. Used by the CLI, the demo and
 * {@link dev.sparkvit.jobs.finetune} (which reuses {@code PretrainSettings.FreezeOut}).
 */
package dev.sparkvit.jobs.pretrain;
