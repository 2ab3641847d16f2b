module github.com/kessai/kessai

go 1.26
