/**
 * The {@code pretrain} job: SimCLR on an ingested dataset. {@link PretrainConfig} reads conf/pretrain.yaml into a
 * validated {@link PretrainSettings}; {@link PretrainJob} runs {@link SimClrMethod} (the ViT with SimCLR's
 * projection head, pairs of views from {@link dev.sparkvit.data.pairs.PairGenerator}, global NT-Xent,
 * {@link PretrainOptimizers}) on {@link dev.sparkvit.jobs.train.BarrierTraining}, and ends with the EMA weights as
 * safetensors and a linear probe ({@link dev.sparkvit.jobs.probe}); {@link PretrainMonitor} and
 * {@link CollapseMonitor} report. Start reading at {@code PretrainJob#execute}. Used by the CLI, the demo and
 * {@link dev.sparkvit.jobs.finetune}. Its settings are declared in {@link PretrainKeys}.
 */
package dev.sparkvit.jobs.pretrain;
