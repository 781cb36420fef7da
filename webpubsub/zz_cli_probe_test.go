package webpubsub_test
import ("testing";"fmt";"context";"github.com/webpubsub-go/sdk/webpubsub")
func TestX(t *testing.T){
 _, err := webpubsub.NewClientFromConnectionString("Endpoint=http://x;AccessKey=k", "bad-hub")
 fmt.Println(err)
 _, err = webpubsub.NewClientFromConnectionString("Endpoint=x;AccessKey=k", "hub")
 fmt.Println(err)
 c, _ := webpubsub.NewClientFromConnectionString("Endpoint=http://127.0.0.1:1;AccessKey=k", "hub", webpubsub.WithRetry(webpubsub.RetryOptions{MaxRetries:-1}))
 fmt.Println(c.SendToAll(context.Background(), webpubsub.Text("x"), nil))
 fmt.Println(c.SendToGroup(context.Background(), "", webpubsub.Text("x"), nil))
}
