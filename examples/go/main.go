// main.go: the Go example: loads a config (configs/cpu_small.yaml), trains it for a few steps into a temporary
// folder while printing the progress, then generates text from a prompt and prints it. Ctrl-C stops training
// after a checkpoint. Usage: memtx-go-example -config configs/cpu_small.yaml [-steps 20] [-prompt TEXT]

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"

	"memtx"
)

func main() {
	configPath := flag.String("config", "configs/cpu_small.yaml", "YAML config of the model and its training")
	steps := flag.Int("steps", 20, "optimizer steps to train (overrides training.max_steps)")
	prompt := flag.String("prompt", "The pass key is 42. Remember it. 42 is the pass key. What is the pass key? The pass key is", "prompt to continue")
	maxNew := flag.Int64("max-new-tokens", 32, "tokens to generate")
	flag.Parse()
	if err := run(*configPath, *steps, *prompt, *maxNew); err != nil {
		fmt.Fprintln(os.Stderr, "error:", err)
		var e *memtx.Error
		if errors.As(err, &e) && e.Code == memtx.CodeCancelled {
			os.Exit(130)
		}
		os.Exit(1)
	}
}

func run(configPath string, steps int, prompt string, maxNew int64) error {
	ctx, err := memtx.NewContext(nil) // loads the plugins beside libmemtx
	if err != nil {
		return err
	}
	defer ctx.Close() // also closes the config and model below

	cfg, err := ctx.LoadConfig(configPath)
	if err != nil {
		return err
	}
	outDir, err := os.MkdirTemp("", "memtx-go-example-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(outDir)
	for key, value := range map[string]string{
		"training.max_steps":  strconv.Itoa(steps),
		"training.output_dir": outDir,
	} {
		if err := cfg.Set(key, value); err != nil {
			return err
		}
	}
	if steps < 30 { // the config's warm-up would outlast a short run
		if err := cfg.Set("training.warmup_steps", strconv.Itoa(steps/3)); err != nil {
			return err
		}
	}

	model, err := ctx.NewModel(cfg)
	if err != nil {
		return err
	}
	defer model.Close()

	// Ctrl-C cancels the context, which stops training after a checkpoint.
	runCtx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	fmt.Printf("training %s for %d steps into %s\n", configPath, steps, outDir)
	err = model.Train(runCtx, cfg, func(p memtx.Progress) {
		switch p.Event {
		case memtx.EventStep:
			fmt.Printf("step %d/%d  loss %.4f  lr %.2e  %.0f tokens/s\n", p.Step, p.TotalSteps, p.Loss, p.LearningRate,
				p.TokensPerSecond)
		case memtx.EventEval:
			fmt.Printf("step %d  eval loss %.4f\n", p.Step, p.EvalLoss)
		case memtx.EventCheckpoint:
			fmt.Printf("step %d  checkpoint written\n", p.Step)
		case memtx.EventDone:
			fmt.Printf("done after %d steps (%.1f s), loss %.4f\n", p.Step, p.ElapsedSeconds, p.Loss)
		}
	})
	if err != nil {
		return err
	}

	opts := memtx.DefaultGenerateOptions()
	opts.MaxNewTokens = maxNew
	opts.Temperature = 0 // greedy
	text, err := model.GenerateText(prompt, &opts)
	if err != nil {
		return err
	}
	fmt.Printf("prompt: %q\ngenerated: %q\n", prompt, text)
	return nil
}
